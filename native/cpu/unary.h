// Elementwise unary ops on CPU: y = f(x) and gx = f'(x, y) * gy (formulas in common/unary_math.h).
#pragma once
#include <cstdint>

#include "common/unary_math.h"

namespace mpf::cpu {

template <typename T>
void unary_forward(UnaryOp op, const T* x, T* y, int64_t n, double p0, double p1);
// x or y may be null when the op's backward does not read it.
template <typename T>
void unary_backward(UnaryOp op, const T* x, const T* y, const T* gy, T* gx, int64_t n, double p0, double p1);

// y[i] = exp(x[i]) on the calling thread (x == y allowed): the vector kernel for float32 where the
// CPU has one, std::exp otherwise. For kernels of other families that need many exps.
template <typename T>
void exp_serial(const T* x, T* y, int64_t n);

// y[i] = selu(x[i]) on the calling thread (x == y allowed), through the same kernels as
// unary_forward(Selu): conv2d's fused activation (cpu/conv2d.h) calls it on blocks it owns, and
// its results equal conv2d followed by selu exactly.
template <typename T>
void selu_serial(const T* x, T* y, int64_t n);

}  // namespace mpf::cpu
