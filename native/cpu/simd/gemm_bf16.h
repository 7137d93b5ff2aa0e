// The bf16 GEMM micro-kernel and packers of the Winograd forward under the bf16 inference
// precision (formats: cpu/inference_precision.h). Include only from files named *_avx512bf16.cc
// (compiled with -mavx512bf16, entered after bf16_gemm_kernels() found the CPU feature).
//
// The same tile as the float32 kernel of simd/gemm.h: MR rows x 2 zmm of 16 columns in MR * 2
// accumulators. Each vdpbf16ps multiplies 16 columns by one row's broadcast pair of depths and
// adds both products into the float32 accumulators, so one instruction covers two depths: twice
// the float32 FMA's work per instruction on the same ports. Written over __m512 directly rather
// than a vector type (simd/vec.h): AVX512_BF16 is the only instruction set with such a product.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <utility>

#include "cpu/inference_precision.h"

namespace mpf::simd::gemm_bf16 {
namespace {

constexpr int kNR = 32;

inline __mmask16 first_lanes(int n) { return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1); }

// Lanes 0..15 of two float rows (depths 2p and 2p + 1) as pairs: word 2j = lo[j], 2j + 1 = hi[j],
// each rounded to nearest even (vcvtne2ps2bf16 puts b's 16 values in words 0..15, a's in 16..31).
inline __m512i pairs(__m512 lo, __m512 hi) {
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3,
                                       18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(idx, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)));
}

template <int MR>
void ukr(int64_t kp, const uint32_t* __restrict a, const uint32_t* __restrict b, float* __restrict c, int64_t ldc, int n_valid,
         bool load_c) {
  __m512 acc[MR][2];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kp; ++p) {
    const __m512bh b0 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b));
    const __m512bh b1 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + 16));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512bh ai = reinterpret_cast<__m512bh>(_mm512_set1_epi32(int(a[i])));
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
    }
    a += MR;
    b += kNR;
  }
  const __mmask16 m0 = first_lanes(n_valid), m1 = first_lanes(n_valid - 16);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* ci = c + i * ldc;
    __m512 r0 = acc[i][0], r1 = acc[i][1];
    if (load_c) {
      r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, ci));
      r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, ci + 16));
    }
    _mm512_mask_storeu_ps(ci, m0, r0);
    _mm512_mask_storeu_ps(ci + 16, m1, r1);
  }
}

// A tile: depths kk and kk + 1 of rows 0..mr-1 (mr <= 16) are two masked loads; a missing last
// depth reads as zero.
void pack_a(const float* src, int mr, int64_t kc, uint32_t* dst) {
  const __mmask16 m = first_lanes(mr);
  for (int64_t kk = 0; kk < kc; kk += 2, dst += mr) {
    const __m512 lo = _mm512_maskz_loadu_ps(m, src + kk * mr);
    const __m512 hi = kk + 1 < kc ? _mm512_maskz_loadu_ps(m, src + (kk + 1) * mr) : _mm512_setzero_ps();
    _mm512_mask_storeu_epi32(dst, m, pairs(lo, hi));
  }
}

// B panel of kNR columns: each pair of depths is two halves of 16 columns.
void pack_b(const float* src, int64_t kc, uint32_t* dst) {
  for (int64_t kk = 0; kk < kc; kk += 2, dst += kNR) {
    const float* r0 = src + kk * kNR;
    const bool has1 = kk + 1 < kc;
    for (int h = 0; h < 2; ++h) {
      const __m512 lo = _mm512_loadu_ps(r0 + 16 * h);
      const __m512 hi = has1 ? _mm512_loadu_ps(r0 + kNR + 16 * h) : _mm512_setzero_ps();
      _mm512_storeu_si512(dst + 16 * h, pairs(lo, hi));
    }
  }
}

template <int... I>
constexpr cpu::bf16::Kernels make(std::integer_sequence<int, I...>) {
  return cpu::bf16::Kernels{int(sizeof...(I)), kNR, {nullptr, &ukr<I + 1>...}, &pack_a, &pack_b};
}

// Tiles up to MR rows (the float32 AVX-512 kernel's height, so the Winograd driver's row tiles fit).
template <int MR>
constexpr cpu::bf16::Kernels make_kernels() {
  static_assert(MR >= 1 && MR <= cpu::gemm_detail::kMaxMR, "MR out of range");
  return make(std::make_integer_sequence<int, MR>{});
}

}  // namespace
}  // namespace mpf::simd::gemm_bf16
