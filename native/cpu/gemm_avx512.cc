// SGEMM micro-kernels and packers for AVX-512 (compiled with -mavx512*; entered only when
// simd_level() says so). Tile: up to 14 rows of A x 32 columns of B = 28 zmm accumulators, which
// leaves registers for two B vectors and one broadcast; 26-28 independent FMA chains hide the
// 4-cycle FMA latency with room to spare.
#include <immintrin.h>

#include <utility>

#include "cpu/gemm_kernels.h"
#include "cpu/gemm_transpose_avx512.h"

// GCC 12 reports the undefined-upper-half idiom inside its own AVX-512 shuffle intrinsics as
// "maybe uninitialized"; every value here is initialised.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace mpf::cpu::gemm_detail {
namespace {

constexpr int kNR = 32;
constexpr int64_t kPrefetchRows = 4;

inline __mmask16 lane_mask(int n) { return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1); }

template <int MR>
void ukr(int64_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c, int64_t ldc,
         int n_valid, bool load_c, const float* bias_row, const float* bias_col) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) {
    c0[i] = _mm512_setzero_ps();
    c1[i] = _mm512_setzero_ps();
  }
  // The C tile is only touched after the loop; start pulling it in now.
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
    }
    a += MR;
    b += kNR;
  }
  const __mmask16 m0 = lane_mask(n_valid), m1 = lane_mask(n_valid - 16);
  __m512 bc0 = _mm512_setzero_ps(), bc1 = _mm512_setzero_ps();
  if (bias_col) {
    bc0 = _mm512_maskz_loadu_ps(m0, bias_col);
    bc1 = _mm512_maskz_loadu_ps(m1, bias_col + 16);
  }
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) {
    float* ci = c + i * ldc;
    __m512 r0 = _mm512_add_ps(c0[i], bc0), r1 = _mm512_add_ps(c1[i], bc1);
    if (bias_row) {
      const __m512 br = _mm512_set1_ps(bias_row[i]);
      r0 = _mm512_add_ps(r0, br);
      r1 = _mm512_add_ps(r1, br);
    }
    if (load_c) {
      r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, ci));
      r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, ci + 16));
    }
    _mm512_mask_storeu_ps(ci, m0, r0);
    _mm512_mask_storeu_ps(ci + 16, m1, r1);
  }
}

void pack_b_rows(const float* src, int64_t ld, int64_t kc, int64_t nc, int nr, float* dst, int64_t panel_stride) {
  // Row by row, so the reads stream along each source row (one page at a time), not across rows.
  const int64_t panels = (nc + kNR - 1) / kNR;
  const int last = int(nc - (panels - 1) * kNR);
  const __mmask16 l0 = lane_mask(last), l1 = lane_mask(last - 16);
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float* s = src + kk * ld;
    float* d = dst + kk * kNR;
    // Rows far apart (channel planes) defeat the hardware prefetchers; ask for a later row now.
    if (kk + kPrefetchRows < kc)
      for (int64_t j = 0; j < nc; j += 16) _mm_prefetch(reinterpret_cast<const char*>(s + kPrefetchRows * ld + j), _MM_HINT_T0);
    for (int64_t j = 0; j < panels - 1; ++j, s += kNR, d += panel_stride) {
      _mm512_store_ps(d, _mm512_loadu_ps(s));
      _mm512_store_ps(d + 16, _mm512_loadu_ps(s + 16));
    }
    _mm512_store_ps(d, _mm512_maskz_loadu_ps(l0, s));
    _mm512_store_ps(d + 16, _mm512_maskz_loadu_ps(l1, s + 16));
  }
}

// B(kk, j) = src[j * ld + kk]: 16 columns x 16 depths at a time through a register transpose.
void pack_b_cols(const float* src, int64_t ld, int64_t kc, int64_t nc, int nr, float* dst, int64_t panel_stride) {
  __m512 r[16];
  for (int64_t j0 = 0; j0 < nc; j0 += kNR, dst += panel_stride) {
    for (int half = 0; half < 2; ++half) {
      const int64_t jb = j0 + half * 16;
      const int rows = int(nc - jb < 16 ? (nc - jb > 0 ? nc - jb : 0) : 16);
      for (int64_t k0 = 0; k0 < kc; k0 += 16) {
        const int depth = int(kc - k0 < 16 ? kc - k0 : 16);
        const __mmask16 km = lane_mask(depth);
        for (int j = 0; j < 16; ++j)
          r[j] = j < rows ? _mm512_maskz_loadu_ps(km, src + (jb + j) * ld + k0) : _mm512_setzero_ps();
        transpose16(r);
        for (int kk = 0; kk < depth; ++kk) _mm512_store_ps(dst + (k0 + kk) * kNR + half * 16, r[kk]);
      }
    }
  }
}

// dst[kk * mr + i] = src[i * ld + kk]: 16 depths of up to 16 rows at a time through a transpose.
void pack_a_rows(const float* src, int64_t ld, int mr, int64_t kc, float* dst) {
  __m512 r[16];
  const __mmask16 row_mask = lane_mask(mr);
  for (int64_t k0 = 0; k0 < kc; k0 += 16) {
    const int depth = int(kc - k0 < 16 ? kc - k0 : 16);
    const __mmask16 km = lane_mask(depth);
    for (int i = 0; i < 16; ++i) r[i] = i < mr ? _mm512_maskz_loadu_ps(km, src + i * ld + k0) : _mm512_setzero_ps();
    transpose16(r);
    for (int kk = 0; kk < depth; ++kk) _mm512_mask_storeu_ps(dst + (k0 + kk) * mr, row_mask, r[kk]);
  }
}

template <int... I>
constexpr SgemmKernels make(std::integer_sequence<int, I...>) {
  return SgemmKernels{"avx512", kMaxMR, kNR, {nullptr, &ukr<I + 1>...}, &pack_b_rows, &pack_b_cols, &pack_a_rows};
}

}  // namespace

const SgemmKernels& kernels_avx512() {
  static const SgemmKernels k = make(std::make_integer_sequence<int, kMaxMR>{});
  return k;
}

}  // namespace mpf::cpu::gemm_detail
