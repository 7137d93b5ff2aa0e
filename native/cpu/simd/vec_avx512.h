// The AVX-512 vector type: 16 floats in one zmm register, masks in k registers. Include only from
// files named *_avx512.cc (compiled with -mavx512f/dq/bw/vl, entered after simd_level() says
// AVX512). See vec.h.
#pragma once
#include <immintrin.h>

#include "cpu/simd/vec.h"

// GCC 12 reports the undefined-upper-half idiom inside its own AVX-512 shuffle intrinsics as
// "maybe uninitialized" (a false positive: every value here is initialised). Clang has no such
// warning group under that name, so the pragma is GCC's only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace mpf::simd {
// Unnamed: each translation unit (compiled with its own ISA flags) gets its own copies, so the
// linker can never hand an AVX-512 copy of a helper to baseline code.
namespace {

struct VecAvx512 {
  using F = __m512;
  using I = __m512i;
  using M = __mmask16;
  static constexpr int kWidth = 16;
  static constexpr const char* kName = "avx512";

  // Lanes [0, n) on; n clamped to [0, 16].
  static inline __mmask16 lane_mask(int n) { return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1); }

  static inline F zero() { return _mm512_setzero_ps(); }
  static inline F set1(float v) { return _mm512_set1_ps(v); }
  static inline F broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static inline F load(const float* p) { return _mm512_loadu_ps(p); }
  static inline void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static inline F load_first(const float* p, int n) { return _mm512_maskz_loadu_ps(lane_mask(n), p); }
  static inline void store_first(float* p, int n, F v) { _mm512_mask_storeu_ps(p, lane_mask(n), v); }
  static inline F load_masked(const float* p, uint32_t bits) { return _mm512_maskz_loadu_ps(__mmask16(bits & 0xFFFF), p); }
  static inline F add(F a, F b) { return _mm512_add_ps(a, b); }
  static inline F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static inline F or_bits(F a, F b) { return _mm512_or_ps(a, b); }
  static inline F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static inline F div(F a, F b) { return _mm512_div_ps(a, b); }
  static inline F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static inline F min(F a, F b) { return _mm512_min_ps(a, b); }
  static inline F max(F a, F b) { return _mm512_max_ps(a, b); }
  static inline F abs(F a) { return _mm512_abs_ps(a); }
  static inline F neg(F a) { return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(int(0x80000000u)))); }
  static inline F round(F a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static inline I to_int(F a) { return _mm512_cvtps_epi32(a); }
  static inline I srai1(I a) { return _mm512_srai_epi32(a, 1); }
  static inline I isub(I a, I b) { return _mm512_sub_epi32(a, b); }
  static inline F pow2(I n) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23)); }
  static inline F scale_pow2(F a, F n) { return _mm512_scalef_ps(a, n); }
  static inline M gt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static inline M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static inline F select(M m, F t, F f) { return _mm512_mask_blend_ps(m, f, t); }
  static inline float reduce_add(F a) {
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_shuffle_ps(q, q, 1));
    return _mm_cvtss_f32(q);
  }
  // r[i][j] -> r[j][i]: pairs interleaved, then 4x4 blocks within 128-bit lanes, then the lanes.
  static inline void transpose(F r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
      u[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
      u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
      u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    // u[4g + c] holds column 4L + c of rows 4g..4g+3 in 128-bit lane L.
    for (int c = 0; c < 4; ++c) {
      const __m512 v = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), w = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
      const __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88), w2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
      r[c] = _mm512_shuffle_f32x4(v, v2, 0x88);
      r[8 + c] = _mm512_shuffle_f32x4(v, v2, 0xDD);
      r[4 + c] = _mm512_shuffle_f32x4(w, w2, 0x88);
      r[12 + c] = _mm512_shuffle_f32x4(w, w2, 0xDD);
    }
  }
  static inline void prefetch(const float* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }
};

}  // namespace
}  // namespace mpf::simd
