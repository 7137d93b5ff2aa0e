// SGEMM micro-kernels and packers for AVX2 + FMA (compiled with -mavx2 -mfma; entered only when
// simd_level() says so). Tile: up to 6 rows of A x 16 columns of B = 12 ymm accumulators, two B
// vectors and one broadcast out of 16 registers; 12 chains cover two FMA pipes x 4-cycle latency.
#include <immintrin.h>

#include <utility>

#include "cpu/gemm_kernels.h"

namespace mpf::cpu::gemm_detail {
namespace {

constexpr int kNR = 16;
constexpr int kMR = 6;
constexpr int64_t kPrefetchRows = 4;

alignas(32) const int32_t kMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
// Lanes [0, n) set, n clamped to [0, 8].
inline __m256i lane_mask(int n) {
  n = n < 0 ? 0 : n > 8 ? 8 : n;
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskTable + 8 - n));
}

template <int MR>
void ukr(int64_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c, int64_t ldc,
         int n_valid, bool load_c, const float* bias_row, const float* bias_col) {
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    c0[i] = _mm256_setzero_ps();
    c1[i] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
    }
    a += MR;
    b += kNR;
  }
  const __m256i m0 = lane_mask(n_valid), m1 = lane_mask(n_valid - 8);
  __m256 bc0 = _mm256_setzero_ps(), bc1 = _mm256_setzero_ps();
  if (bias_col) {
    bc0 = _mm256_maskload_ps(bias_col, m0);
    bc1 = _mm256_maskload_ps(bias_col + 8, m1);
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    float* ci = c + i * ldc;
    __m256 r0 = _mm256_add_ps(c0[i], bc0), r1 = _mm256_add_ps(c1[i], bc1);
    if (bias_row) {
      const __m256 br = _mm256_set1_ps(bias_row[i]);
      r0 = _mm256_add_ps(r0, br);
      r1 = _mm256_add_ps(r1, br);
    }
    if (load_c) {
      r0 = _mm256_add_ps(r0, _mm256_maskload_ps(ci, m0));
      r1 = _mm256_add_ps(r1, _mm256_maskload_ps(ci + 8, m1));
    }
    _mm256_maskstore_ps(ci, m0, r0);
    _mm256_maskstore_ps(ci + 8, m1, r1);
  }
}

void pack_b_rows(const float* src, int64_t ld, int64_t kc, int64_t nc, int nr, float* dst, int64_t panel_stride) {
  // Row by row, so the reads stream along each source row (one page at a time), not across rows.
  const int64_t panels = (nc + kNR - 1) / kNR;
  const int last = int(nc - (panels - 1) * kNR);
  const __m256i l0 = lane_mask(last), l1 = lane_mask(last - 8);
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float* s = src + kk * ld;
    float* d = dst + kk * kNR;
    // Rows far apart (channel planes) defeat the hardware prefetchers; ask for a later row now.
    if (kk + kPrefetchRows < kc)
      for (int64_t j = 0; j < nc; j += 16) _mm_prefetch(reinterpret_cast<const char*>(s + kPrefetchRows * ld + j), _MM_HINT_T0);
    for (int64_t j = 0; j < panels - 1; ++j, s += kNR, d += panel_stride) {
      _mm256_store_ps(d, _mm256_loadu_ps(s));
      _mm256_store_ps(d + 8, _mm256_loadu_ps(s + 8));
    }
    _mm256_store_ps(d, _mm256_maskload_ps(s, l0));
    _mm256_store_ps(d + 8, _mm256_maskload_ps(s + 8, l1));
  }
}

// In-register 8x8 transpose: r[i][j] -> r[j][i].
inline void transpose8(__m256 r[8]) {
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

// B(kk, j) = src[j * ld + kk]: 8 columns x 8 depths at a time through a register transpose.
void pack_b_cols(const float* src, int64_t ld, int64_t kc, int64_t nc, int nr, float* dst, int64_t panel_stride) {
  __m256 r[8];
  for (int64_t j0 = 0; j0 < nc; j0 += kNR, dst += panel_stride) {
    for (int half = 0; half < 2; ++half) {
      const int64_t jb = j0 + half * 8;
      const int rows = int(nc - jb < 8 ? (nc - jb > 0 ? nc - jb : 0) : 8);
      for (int64_t k0 = 0; k0 < kc; k0 += 8) {
        const int depth = int(kc - k0 < 8 ? kc - k0 : 8);
        const __m256i km = lane_mask(depth);
        for (int j = 0; j < 8; ++j)
          r[j] = j < rows ? _mm256_maskload_ps(src + (jb + j) * ld + k0, km) : _mm256_setzero_ps();
        transpose8(r);
        for (int kk = 0; kk < depth; ++kk) _mm256_store_ps(dst + (k0 + kk) * kNR + half * 8, r[kk]);
      }
    }
  }
}

// dst[kk * mr + i] = src[i * ld + kk]: 8 depths of up to 8 rows at a time through a transpose
// (taller tiles in two bands of 8 rows).
void pack_a_rows(const float* src, int64_t ld, int mr, int64_t kc, float* dst) {
  __m256 r[8];
  for (int i0 = 0; i0 < mr; i0 += 8) {
    const int rows = mr - i0 < 8 ? mr - i0 : 8;
    const __m256i row_mask = lane_mask(rows);
    for (int64_t k0 = 0; k0 < kc; k0 += 8) {
      const int depth = int(kc - k0 < 8 ? kc - k0 : 8);
      const __m256i km = lane_mask(depth);
      for (int i = 0; i < 8; ++i) r[i] = i < rows ? _mm256_maskload_ps(src + (i0 + i) * ld + k0, km) : _mm256_setzero_ps();
      transpose8(r);
      for (int kk = 0; kk < depth; ++kk) _mm256_maskstore_ps(dst + (k0 + kk) * mr + i0, row_mask, r[kk]);
    }
  }
}

template <int... I>
constexpr SgemmKernels make(std::integer_sequence<int, I...>) {
  SgemmKernels k{"avx2", kMR, kNR, {nullptr, &ukr<I + 1>...}, &pack_b_rows, &pack_b_cols, &pack_a_rows};
  return k;
}

}  // namespace

const SgemmKernels& kernels_avx2() {
  static const SgemmKernels k = make(std::make_integer_sequence<int, kMR>{});
  return k;
}

}  // namespace mpf::cpu::gemm_detail
