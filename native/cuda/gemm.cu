// The plugin's own tiled GEMM (tile.cuh) and the matrix products built on it (cpu/matmul.h's
// entry points): matmul and linear, forward and backward. The model's linears are the tiny SE
// layers, so this is about being correct and not slow, not about peak throughput.
#include "cuda/common.cuh"
#include "cuda/gemm.cuh"
#include "cuda/ops.h"
#include "cuda/reduce.cuh"
#include "cuda/tile.cuh"

namespace mpf::cuda {
namespace {

using namespace tile;

template <typename T>
__global__ void __launch_bounds__(THREADS) gemm_kernel(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                                                       const T* __restrict__ A, int64_t lda, const T* __restrict__ B,
                                                       int64_t ldb, T* __restrict__ C, int64_t ldc, const T* __restrict__ bias) {
  __shared__ Smem<T> s;
  const int t = threadIdx.x;
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
  T acc[TM][TN] = {};
  const int64_t am = m0 + a_row(t), bn = n0 + b_col(t);
  for (int64_t k0 = 0; k0 < K; k0 += BK) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int64_t k = k0 + a_col(t) + i;
      s.a[a_col(t) + i][a_row(t)] = (am < M && k < K) ? (trans_a ? A[k * lda + am] : A[am * lda + k]) : T(0);
    }
    const int64_t bk = k0 + b_row(t);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t n = bn + j;
      s.b[b_row(t)][b_col(t) + j] = (bk < K && n < N) ? (trans_b ? B[n * ldb + bk] : B[bk * ldb + n]) : T(0);
    }
    __syncthreads();
    multiply(s, t, acc);
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int64_t m = m0 + c_row(t) + i;
    if (m >= M) continue;
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int64_t n = n0 + c_col(t) + j;
      if (n < N) C[m * ldc + n] = acc[i][j] + (bias ? bias[n] : T(0));
    }
  }
}

unsigned tiles(int64_t n, int64_t t) { return unsigned((n + t - 1) / t); }

}  // namespace

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb,
          T* C, int64_t ldc, const T* bias) {
  if (tiles(M, BM) > 65535) throw std::invalid_argument(str("gemm: M = ", M, " is too large"));
  dim3 grid(tiles(N, BN), tiles(M, BM));
  MPF_LAUNCH(grid, THREADS, gemm_kernel<T>)(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, bias);
}
template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, float*,
                          int64_t, const float*);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, const double*, int64_t, const double*, int64_t, double*,
                           int64_t, const double*);

MpfErr matmul_forward(int32_t dt, int64_t M, int64_t K, int64_t N, const void* a, const void* b, void* c) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      gemm<T>(false, false, M, N, K, static_cast<const T*>(a), K, static_cast<const T*>(b), N, static_cast<T*>(c), N, nullptr);
    });
  });
}

// ga = gc · bᵀ (M × K), gb = aᵀ · gc (K × N)
MpfErr matmul_backward(int32_t dt, int64_t M, int64_t K, int64_t N, const void* a, const void* b, const void* gc, void* ga,
                       void* gb) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      const T* A = static_cast<const T*>(a);
      const T* B = static_cast<const T*>(b);
      const T* G = static_cast<const T*>(gc);
      if (ga) gemm<T>(false, true, M, K, N, G, N, B, N, static_cast<T*>(ga), K, nullptr);
      if (gb) gemm<T>(true, false, K, N, M, A, K, G, N, static_cast<T*>(gb), N, nullptr);
    });
  });
}

// y (rows × out) = x (rows × in) · wᵀ + bias
MpfErr linear_forward(int32_t dt, int64_t rows, int64_t in, int64_t out, const void* x, const void* w, const void* bias,
                      void* y) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      gemm<T>(false, true, rows, out, in, static_cast<const T*>(x), in, static_cast<const T*>(w), in, static_cast<T*>(y), out,
              static_cast<const T*>(bias));
    });
  });
}

// gx = gy · w (rows × in), gw = gyᵀ · x (out × in), gbias = column sums of gy
MpfErr linear_backward(int32_t dt, int64_t rows, int64_t in, int64_t out, const void* x, const void* w, const void* gy,
                       void* gx, void* gw, void* gbias) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      const T* X = static_cast<const T*>(x);
      const T* W = static_cast<const T*>(w);
      const T* G = static_cast<const T*>(gy);
      if (gx) gemm<T>(false, false, rows, in, out, G, out, W, in, static_cast<T*>(gx), in, nullptr);
      if (gw) gemm<T>(true, false, out, in, rows, G, out, X, in, static_cast<T*>(gw), in, nullptr);
      if (gbias) sum_reduce_t<T>(G, static_cast<T*>(gbias), bias_grad_plan(rows, out, 1), 1.0);
    });
  });
}

}  // namespace mpf::cuda
