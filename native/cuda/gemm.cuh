// C (M × N, row-major, leading dim ldc) = op(A) · op(B) [+ bias[n]], the plugin's own GEMM for
// matmul and linear (no cuBLAS dependency). op(A)[m][k] = trans_a ? A[k·lda + m] : A[m·lda + k],
// op(B)[k][n] = trans_b ? B[n·ldb + k] : B[k·ldb + n]. Queued on the plugin's stream.
#pragma once
#include <cstdint>

namespace mpf::cuda {

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb,
          T* C, int64_t ldc, const T* bias);

}  // namespace mpf::cuda
