// Internal interface between the SGEMM driver (gemm.cc) and its per-instruction-set micro-kernels
// and packers (written once in cpu/simd/gemm.h; instantiated by gemm.cc (portable), gemm_avx2.cc,
// gemm_avx512.cc, gemm_neon.cc). Not for use outside native/cpu.
//
// Packed formats (all the driver and the kernels agree on):
//   A tile of mr rows, kc deep:     a[kk * mr + i]   = A(m0 + i, k0 + kk)
//   B panel of nr columns, kc deep: b[kk * nr + j]   = B(k0 + kk, n0 + j), zero past the last column
// A tile is as tall as the rows it covers (1..mr_max, one kernel per height), so M never needs
// padding; B panels are always nr wide and the kernel stores only the valid columns.
#pragma once
#include <cstdint>

#include "common/cpu_features.h"

namespace mpf::cpu::gemm_detail {

constexpr int kMaxMR = 14;

// C tile (mr x n_valid, row stride ldc) = [C +] A tile · B panel [+ bias_row[i]] [+ bias_col[j]].
// load_c: add C's current values; bias pointers may be null (bias_row points at the tile's rows,
// bias_col at the panel's columns).
using MicroKernel = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int n_valid,
                             bool load_c, const float* bias_row, const float* bias_col);

// B panels from a row-major block: src(kk, j) = src[kk * ld + j], kc x nc, into ceil(nc/nr) panels
// panel_stride floats apart (kc * nr for a whole block; more when the caller packs a block in
// pieces of depth).
using PackBRows = void (*)(const float* src, int64_t ld, int64_t kc, int64_t nc, int nr, float* dst, int64_t panel_stride);
// B panels from a transposed block: src(kk, j) = src[j * ld + kk] (a transpose while packing).
using PackBCols = void (*)(const float* src, int64_t ld, int64_t kc, int64_t nc, int nr, float* dst, int64_t panel_stride);

// An A tile from row-major A: dst[kk * mr + i] = src[i * ld + kk] for i < mr, kk < kc (any mr <= 16).
using PackARows = void (*)(const float* src, int64_t ld, int mr, int64_t kc, float* dst);

// The micro-kernel with A row-major (A(i, kk) = a[i * lda + kk]) instead of packed; no biases.
using MicroKernelRowsA = void (*)(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                                  int n_valid, bool load_c);

struct SgemmKernels {
  const char* name;
  int mr_max;  // tallest A tile
  int nr;      // B panel width
  MicroKernel ukr[kMaxMR + 1];  // ukr[mr] for mr in 1..mr_max
  PackBRows pack_b_rows;
  PackBCols pack_b_cols;
  PackARows pack_a_rows;
  MicroKernelRowsA ukr_rows[kMaxMR + 1];  // ukr_rows[mr] for mr in 1..mr_max
};

const SgemmKernels& kernels_scalar();
#if defined(MPF_X86)
const SgemmKernels& kernels_avx2();
const SgemmKernels& kernels_avx512();
#endif
#if defined(MPF_NEON)
const SgemmKernels& kernels_neon();
#endif

// The kernels of the given level (capped at what was compiled in).
const SgemmKernels& kernels_for(Simd level);

// One vector wide (AVX-512: 16 columns, the same row heights), for a last B panel of at most that
// many columns, which a full-width panel would mostly pad with zeros (the Winograd weight gradient's
// 104 input channels: 3 x 32 + 8), and for whole Winograd passes whose tiles do not fill 32-column
// panels per thread (conv2d_winograd.cc, run_conv). Null where the level has none.
const SgemmKernels* narrow_kernels_for(Simd level);
#if defined(MPF_X86)
const SgemmKernels& kernels_avx512_narrow();
#endif

}  // namespace mpf::cpu::gemm_detail
