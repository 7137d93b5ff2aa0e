// The shared tile scheme of the plugin's own GEMM-shaped kernels (gemm.cu, conv2d.cu): a block of
// 256 threads computes a 64×64 tile of C = A·B, stepping through K 16 at a time via shared memory;
// each thread owns a 4×4 patch of the tile. Loads are the caller's (a plain matrix, or an
// implicit im2col view for convolutions); this file has the layout and the multiply.
//   A tile (BM × BK): thread t loads row t/4, columns 4·(t%4) + 0..3, stored transposed As[k][m].
//   B tile (BK × BN): thread t loads row t/16, columns 4·(t%16) + 0..3, stored Bs[k][n].
//   C patch: rows 4·(t/16) + 0..3, columns 4·(t%16) + 0..3.
#pragma once
#include <cstdint>

namespace mpf::cuda::tile {

constexpr int BM = 64, BN = 64, BK = 16, THREADS = 256, TM = 4, TN = 4;

__device__ __forceinline__ int a_row(int t) { return t >> 2; }
__device__ __forceinline__ int a_col(int t) { return (t & 3) * 4; }
__device__ __forceinline__ int b_row(int t) { return t >> 4; }
__device__ __forceinline__ int b_col(int t) { return (t & 15) * 4; }
__device__ __forceinline__ int c_row(int t) { return (t >> 4) * TM; }
__device__ __forceinline__ int c_col(int t) { return (t & 15) * TN; }

template <typename T>
struct Smem {
  T a[BK][BM];
  T b[BK][BN];
};

template <typename T>
__device__ __forceinline__ void multiply(const Smem<T>& s, int t, T (&acc)[TM][TN]) {
  const int r = c_row(t), c = c_col(t);
#pragma unroll
  for (int k = 0; k < BK; ++k) {
    T a[TM], b[TN];
#pragma unroll
    for (int i = 0; i < TM; ++i) a[i] = s.a[k][r + i];
#pragma unroll
    for (int j = 0; j < TN; ++j) b[j] = s.b[k][c + j];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
  }
}

}  // namespace mpf::cuda::tile
