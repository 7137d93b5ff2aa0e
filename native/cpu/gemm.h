// Matrix multiply on CPU. Two layers:
//  - gemm(): C = op(A) · op(B) on strided row-major matrices, with optional accumulation and bias.
//    float runs the packed, cache-blocked, multithreaded SIMD path; double runs plain blocked loops
//    (the reference that finite-difference checks use, deliberately independent of the fast path).
//  - sgemm_packed(): the same float driver with caller-supplied packers, for ops whose operands are
//    not stored as matrices (conv2d packs im2col panels straight from its input parts and writes
//    output rows into several tensors). Blocking, threading and micro-kernels live here once.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace mpf::cpu {

// C (M x N, row stride ldc) = op(A) · op(B) [+ C] [+ bias_row[m]] [+ bias_col[n]].
// op(A) is M x K: A[m * lda + k], or A[k * lda + m] when trans_a. op(B) is K x N: B[k * ldb + n],
// or B[n * ldb + k] when trans_b. accumulate: add to C instead of overwriting it.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
          int64_t ldb, T* C, int64_t ldc, bool accumulate = false, const T* bias_row = nullptr,
          const T* bias_col = nullptr);

// ---- The packed driver ---------------------------------------------------------------------------

// Panel sizes of the micro-kernels the current SIMD level uses.
struct SgemmGeometry {
  int mr_max;  // tallest A tile
  int nr;      // B panel width
};
SgemmGeometry sgemm_geometry();

// Packs A rows [m0, m0 + mr) x reduction [k0, k0 + kc) as dst[kk * mr + i].
using SgemmPackA = std::function<void(int64_t m0, int mr, int64_t k0, int64_t kc, float* dst)>;
// Packs B reduction [k0, k0 + kc) x columns [n0, n0 + nc) of batch item `b` as panels of nr
// columns, dst[(j / nr) * kc * nr + kk * nr + j % nr], zero-filling past nc in the last panel.
using SgemmPackB = std::function<void(int64_t b, int64_t k0, int64_t kc, int64_t n0, int64_t nc, int nr, float* dst)>;

// Rows [m0, m1) of C live at c + (m - m0) * ldc + b * batch_stride.
struct SgemmOutRows {
  int64_t m0, m1;
  float* c;
  int64_t ldc;
  int64_t batch_stride;
};

// C_b = A · B_b for b in [0, batch): A is shared by every batch item, B and C are per item.
struct SgemmProblem {
  int64_t M = 0, N = 0, K = 0, batch = 1;
  SgemmPackA pack_a;
  SgemmPackB pack_b;
  std::vector<SgemmOutRows> out;  // in order of m; rows in no segment are not computed
  const float* bias_row = nullptr;  // M values
  const float* bias_col = nullptr;  // N values
  bool accumulate = false;
  // Blocking hints (0: the driver's defaults): most columns per task block, deepest reduction block.
  int64_t nc_max = 0, kc_max = 0;
  // Optional epilogue, called once per finished block of C (rows [m0, m1), columns [n0, n1) of
  // batch item b, bias and accumulation included) by the thread that finished it, while the block
  // is still in cache: conv2d's fused activation. It maps rows to memory itself (p.out); the range
  // may include rows that no out segment covers (never computed), which it must leave alone.
  std::function<void(int64_t b, int64_t m0, int64_t m1, int64_t n0, int64_t n1)> finish;
};
void sgemm_packed(const SgemmProblem& p);

// Packing helpers for SgemmPackA / SgemmPackB implementations (SIMD where it pays).
// A tile from row-major A (src at (m0, k0), row stride ld): dst[kk * mr + i] = src[i * ld + kk].
void sgemm_pack_a_rows(const float* src, int64_t ld, int mr, int64_t kc, float* dst);
// A tile from A stored transposed (src at (k0, m0)): dst[kk * mr + i] = src[kk * ld + i].
void sgemm_pack_a_cols(const float* src, int64_t ld, int mr, int64_t kc, float* dst);
// B panels from row-major B (src at (k0, n0)): B(kk, j) = src[kk * ld + j]. Panels lie
// panel_stride floats apart (<= 0: kc * nr), so a block can be packed in pieces of depth.
void sgemm_pack_b_rows(const float* src, int64_t ld, int64_t kc, int64_t nc, int nr, float* dst, int64_t panel_stride);
// B panels from B stored transposed (src at (n0, k0)): B(kk, j) = src[j * ld + kk].
void sgemm_pack_b_cols(const float* src, int64_t ld, int64_t kc, int64_t nc, int nr, float* dst, int64_t panel_stride);

// Per-thread scratch memory (64-byte aligned, grown on demand, kept between calls), so the hot
// path does not allocate. Slots let one thread hold several buffers at once; each has one owner
// at a time. The Winograd convolution (conv2d_winograd.cc) does not call the driver and uses the
// slots for its own buffers: its tasks' V, M, Z and packed panels, its transformed weights.
enum ScratchSlot : int {
  kScratchPackB = 0,     // driver: a task's B block
  kScratchPackA = 1,     // driver: a task's A block
  kScratchPrepackA = 2,  // driver (calling thread): A packed for all tasks
  kScratchPartial = 3,   // driver (calling thread): partial sums of reduction slices
  kScratchPacker = 4,    // callers' SgemmPackA / SgemmPackB (inside tasks)
  kScratchCaller = 5,    // callers, around a driver call (calling thread), e.g. transformed weights
  kScratchSlots = 6
};
float* thread_scratch(int slot, int64_t floats);

}  // namespace mpf::cpu
