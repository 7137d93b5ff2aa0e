// The SGEMM micro-kernel and packers, written once over a vector type V (vec.h) and instantiated
// per ISA by gemm_<isa>.cc (and the portable set in gemm.cc). Formats: cpu/gemm_kernels.h.
//
// Tile: MR rows of A x NR = NV * W columns of B, held in MR * NV accumulators. Choose MR * NV so
// the accumulators plus NV B vectors and one broadcast fit the register file, and MR * NV >=
// FMA pipes x FMA latency (independent chains): AVX2 6 x 2 = 12 of 16 ymm, AVX-512 14 x 2 = 28 of
// 32 zmm, NEON 6 x 4 = 24 of 32 q.
#pragma once
#include <cstdint>
#include <utility>

#include "cpu/gemm_kernels.h"

namespace mpf::simd::gemm {

using mpf::cpu::gemm_detail::SgemmKernels;

// Rows ahead that pack_b_rows prefetches: channel planes far apart defeat the hardware prefetchers.
constexpr int64_t kPrefetchRows = 4;
// Depths ahead that pack_a_rows prefetches along each of its rows (4 cache lines): an A tile reads
// up to 16 rows far apart at once, more streams than the hardware prefetchers keep. Measured (1
// thread, tiles from a 9216 x 260 matrix, 9.6 MB): 21 -> 34 GB/s packed at 64, 27 at 128, 19 at
// 256; from an L1-resident source it costs 68 -> 59 GB/s, but such a source is small by definition.
constexpr int64_t kPackAhead = 64;

// A's two layouts for the micro-kernel: packed (the tile's mr values of each depth together, the
// format of gemm_kernels.h) or row-major with a row stride (RowsA), which spares a caller whose A is
// made fresh for one use the pack: the Winograd weight gradient's transformed output gradients.
struct PackedA {
  const float* a;
  const float* at(int i) const { return a + i; }
  template <int MR>
  void next() { a += MR; }
};
struct RowsA {
  const float* a;
  int64_t lda;
  const float* at(int i) const { return a + i * lda; }
  template <int MR>
  void next() { ++a; }
};

template <class V, int NV, int MR, bool kPrefetchC, class AT>
inline void ukr_body(int64_t kc, AT a, const float* __restrict b, float* __restrict c, int64_t ldc, int n_valid,
                     bool load_c, const float* bias_row, const float* bias_col) {
  constexpr int W = V::kWidth, NR = NV * W;
  typename V::F acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
  if constexpr (kPrefetchC) {
    // The C tile is only touched after the loop; start pulling it in now.
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) V::prefetch(c + i * ldc + v * W);
  }
  for (int64_t k = 0; k < kc; ++k) {
    typename V::F bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * W);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const typename V::F ai = V::broadcast(a.at(i));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = V::fmadd(ai, bv[v], acc[i][v]);
    }
    a.template next<MR>();
    b += NR;
  }
  typename V::F bc[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) bc[v] = bias_col ? V::load_first(bias_col + v * W, n_valid - v * W) : V::zero();
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* ci = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      typename V::F r = V::add(acc[i][v], bc[v]);
      if (bias_row) r = V::add(r, V::broadcast(bias_row + i));
      if (load_c) r = V::add(r, V::load_first(ci + v * W, n_valid - v * W));
      V::store_first(ci + v * W, n_valid - v * W, r);
    }
  }
}

template <class V, int NV, int MR, bool kPrefetchC>
void ukr(int64_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c, int64_t ldc,
         int n_valid, bool load_c, const float* bias_row, const float* bias_col) {
  ukr_body<V, NV, MR, kPrefetchC>(kc, PackedA{a}, b, c, ldc, n_valid, load_c, bias_row, bias_col);
}

// The same tile with A row-major: A(i, kk) = a[i * lda + kk].
template <class V, int NV, int MR, bool kPrefetchC>
void ukr_rows(int64_t kc, const float* a, int64_t lda, const float* __restrict b, float* __restrict c, int64_t ldc,
              int n_valid, bool load_c) {
  ukr_body<V, NV, MR, kPrefetchC>(kc, RowsA{a, lda}, b, c, ldc, n_valid, load_c, nullptr, nullptr);
}

// B panels from a row-major block, row by row so the reads stream along each source row.
template <class V, int NV>
void pack_b_rows(const float* src, int64_t ld, int64_t kc, int64_t nc, int /*nr*/, float* dst, int64_t panel_stride) {
  constexpr int W = V::kWidth, NR = NV * W;
  const int64_t panels = (nc + NR - 1) / NR;
  const int last = int(nc - (panels - 1) * NR);
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float* s = src + kk * ld;
    float* d = dst + kk * NR;
    if (kk + kPrefetchRows < kc)
      for (int64_t j = 0; j < nc; j += 16) V::prefetch(s + kPrefetchRows * ld + j);
    for (int64_t j = 0; j < panels - 1; ++j, s += NR, d += panel_stride)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) V::store(d + v * W, V::load(s + v * W));
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) V::store(d + v * W, V::load_first(s + v * W, last - v * W));
  }
}

// B(kk, j) = src[j * ld + kk]: W columns x W depths at a time through a register transpose.
template <class V, int NV>
void pack_b_cols(const float* src, int64_t ld, int64_t kc, int64_t nc, int /*nr*/, float* dst, int64_t panel_stride) {
  constexpr int W = V::kWidth, NR = NV * W;
  typename V::F r[W];
  for (int64_t j0 = 0; j0 < nc; j0 += NR, dst += panel_stride) {
    for (int part = 0; part < NV; ++part) {
      const int64_t jb = j0 + part * W;
      const int rows = int(nc - jb < W ? (nc - jb > 0 ? nc - jb : 0) : W);
      for (int64_t k0 = 0; k0 < kc; k0 += W) {
        const int depth = int(kc - k0 < W ? kc - k0 : W);
        for (int j = 0; j < W; ++j) r[j] = j < rows ? V::load_first(src + (jb + j) * ld + k0, depth) : V::zero();
        V::transpose(r);
        for (int kk = 0; kk < depth; ++kk) V::store(dst + (k0 + kk) * NR + part * W, r[kk]);
      }
    }
  }
}

// dst[kk * mr + i] = src[i * ld + kk]: W depths of up to W rows at a time through a transpose
// (taller tiles in bands of W rows).
template <class V>
void pack_a_rows(const float* src, int64_t ld, int mr, int64_t kc, float* dst) {
  constexpr int W = V::kWidth;
  typename V::F r[W];
  for (int i0 = 0; i0 < mr; i0 += W) {
    const int rows = mr - i0 < W ? mr - i0 : W;
    for (int64_t k0 = 0; k0 < kc; k0 += W) {
      const int depth = int(kc - k0 < W ? kc - k0 : W);
      if (k0 + kPackAhead < kc)
        for (int i = 0; i < rows; ++i) V::prefetch(src + (i0 + i) * ld + k0 + kPackAhead);
      for (int i = 0; i < W; ++i) r[i] = i < rows ? V::load_first(src + (i0 + i) * ld + k0, depth) : V::zero();
      V::transpose(r);
      for (int kk = 0; kk < depth; ++kk) V::store_first(dst + (k0 + kk) * mr + i0, rows, r[kk]);
    }
  }
}

template <class V, int NV, bool kPrefetchC, int... I>
constexpr SgemmKernels make(std::integer_sequence<int, I...>) {
  return SgemmKernels{V::kName,
                      int(sizeof...(I)),
                      NV * V::kWidth,
                      {nullptr, &ukr<V, NV, I + 1, kPrefetchC>...},
                      &pack_b_rows<V, NV>,
                      &pack_b_cols<V, NV>,
                      &pack_a_rows<V>,
                      {nullptr, &ukr_rows<V, NV, I + 1, kPrefetchC>...}};
}

// The kernel set of V with tiles up to MR x (NV * W).
template <class V, int NV, int MR, bool kPrefetchC>
constexpr SgemmKernels make_kernels() {
  static_assert(MR >= 1 && MR <= cpu::gemm_detail::kMaxMR, "MR out of range");
  return make<V, NV, kPrefetchC>(std::make_integer_sequence<int, MR>{});
}

}  // namespace mpf::simd::gemm
