// Reductions on CPU: sums over dims (sum, mean, and the sum-to-shape that broadcasting's backward
// needs), their broadcast backward, and a numerically stable log-sum-exp.
#pragma once
#include "common/tensor.h"

namespace mpf::cpu {

// The sum of p[0..n) in double, on the calling thread (float32 through the SIMD row sum).
template <typename T>
double contiguous_sum(const T* p, int64_t n);

// out (shape `to`, which broadcasts to `from`) = scale * the sum of x (shape `from`) over the dims
// where `to` is 1 (or missing). Accumulates in double.
template <typename T>
void sum_to_shape(const T* x, const Shape& from, T* out, const Shape& to, double scale);

// out (shape `to`) = scale * x broadcast from x_shape: the backward of sum_to_shape.
template <typename T>
void broadcast_to(const T* x, const Shape& x_shape, T* out, const Shape& to, double scale);

// x viewed as (outer, d, inner): y[o, i] = log(sum_k exp(x[o, k, i])), shifted by the max.
template <typename T>
void logsumexp_forward(const T* x, T* y, int64_t outer, int64_t d, int64_t inner);
// gx[o, k, i] = gy[o, i] * exp(x[o, k, i] - y[o, i]) (the softmax along the reduced dim).
template <typename T>
void logsumexp_backward(const T* x, const T* y, const T* gy, T* gx, int64_t outer, int64_t d, int64_t inner);

}  // namespace mpf::cpu
