// Matrix products on CPU, forward and backward side by side, all through gemm() (gemm.h):
// float takes the packed SIMD driver, double the plain reference loops.
//   matmul: c (M x N) = a (M x K) · b (K x N)
//   linear: y (rows x out) = x (rows x in) · w^T + bias, w (out x in); rows = all leading dims of x
#pragma once
#include <cstdint>

namespace mpf::cpu {

template <typename T>
void matmul_forward(int64_t M, int64_t K, int64_t N, const T* a, const T* b, T* c);
// ga = gc · b^T, gb = a^T · gc; a null output is skipped.
template <typename T>
void matmul_backward(int64_t M, int64_t K, int64_t N, const T* a, const T* b, const T* gc, T* ga, T* gb);

template <typename T>
void linear_forward(int64_t rows, int64_t in, int64_t out, const T* x, const T* w, const T* bias, T* y);
// gx = gy · w, gw = gy^T · x, gbias = column sums of gy; null outputs are skipped.
template <typename T>
void linear_backward(int64_t rows, int64_t in, int64_t out, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gbias);

}  // namespace mpf::cpu
