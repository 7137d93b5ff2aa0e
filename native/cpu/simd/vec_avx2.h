// The AVX2 + FMA vector type: 8 floats in one ymm register. Include only from files named
// *_avx2.cc (compiled with -mavx2 -mfma -mf16c, entered after simd_level() says AVX2). See vec.h.
#pragma once
#include <immintrin.h>

#include "cpu/simd/vec.h"

namespace mpf::simd {
// Unnamed: each translation unit (compiled with its own ISA flags) gets its own copies, so the
// linker can never hand an AVX-512 copy of a helper to baseline code.
namespace {

struct VecAvx2 {
  using F = __m256;
  using I = __m256i;
  using M = __m256;
  static constexpr int kWidth = 8;
  static constexpr const char* kName = "avx2";

  // Lanes [0, n) on; n clamped to [0, 8].
  static inline __m256i lane_mask(int n) {
    alignas(32) static const int32_t table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + 8 - clamp_lanes(n, 8)));
  }

  static inline F zero() { return _mm256_setzero_ps(); }
  static inline F set1(float v) { return _mm256_set1_ps(v); }
  static inline F broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static inline F load(const float* p) { return _mm256_loadu_ps(p); }
  static inline void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static inline F load_first(const float* p, int n) { return n >= kWidth ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lane_mask(n)); }
  // Plain stores of 8, 4, 2 and 1 floats, not vmaskmovps: AMD's cores run a masked store as a
  // microcoded sequence, one every several cycles, and the GEMM micro-kernel writes its tile with
  // this (on the Zen 4 host, 2026-12-04: the Winograd per-point GEMMs 77-92 -> 106-112 GFLOP/s per
  // thread, docs/performance.md).
  static inline void store_first(float* p, int n, F v) {
    if (n >= kWidth) {
      _mm256_storeu_ps(p, v);
      return;
    }
    __m128 part = _mm256_castps256_ps128(v);
    if (n >= 4) {
      _mm_storeu_ps(p, part);
      part = _mm256_extractf128_ps(v, 1);
      p += 4;
      n -= 4;
    }
    if (n >= 2) {
      _mm_storel_pi(reinterpret_cast<__m64*>(p), part);
      part = _mm_movehl_ps(part, part);
      p += 2;
      n -= 2;
    }
    if (n >= 1) _mm_store_ss(p, part);
  }
  static inline F load_masked(const float* p, uint32_t bits) {
    const __m256i lane_bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const __m256i m = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(int(bits & 0xFF)), lane_bits), lane_bits);
    return _mm256_maskload_ps(p, m);
  }
  static inline F add(F a, F b) { return _mm256_add_ps(a, b); }
  static inline F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static inline F or_bits(F a, F b) { return _mm256_or_ps(a, b); }
  static inline F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static inline F div(F a, F b) { return _mm256_div_ps(a, b); }
  static inline F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static inline F min(F a, F b) { return _mm256_min_ps(a, b); }
  static inline F max(F a, F b) { return _mm256_max_ps(a, b); }
  static inline F abs(F a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
  static inline F neg(F a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
  static inline F round(F a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static inline I to_int(F a) { return _mm256_cvtps_epi32(a); }
  static inline I srai1(I a) { return _mm256_srai_epi32(a, 1); }
  static inline I isub(I a, I b) { return _mm256_sub_epi32(a, b); }
  static inline F pow2(I n) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23)); }
  static inline F scale_pow2(F a, F n) { return mul(a, pow2(to_int(n))); }
  static inline M gt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static inline M ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static inline F select(M m, F t, F f) { return _mm256_blendv_ps(f, t, m); }
  static inline float reduce_add(F a) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
  }
  // r[i][j] -> r[j][i]: pairs interleaved, 4x4 blocks within 128-bit lanes, then the lanes.
  static inline void transpose(F r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
      u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
      u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
      u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    // u[c] (rows 0-3) and u[4 + c] (rows 4-7) hold columns c (low lane) and 4 + c (high lane).
    for (int c = 0; c < 4; ++c) {
      r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
      r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
  }
  static inline void prefetch(const float* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }
};

}  // namespace
}  // namespace mpf::simd
