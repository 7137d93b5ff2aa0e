// Vector kernels of the exp-based unary forwards in float32 (selu, sigmoid, tanh, exp), one file
// per instruction set (instantiations of cpu/simd/unary.h), entered only after checking simd_level(). The portable path is the scalar
// formula of common/unary_math.h, which stays the reference.
#pragma once
#include <cstdint>

#include "common/unary_math.h"

namespace mpf::cpu {

// Whether the vector files implement op.
inline bool has_vector_unary(UnaryOp op) {
  return op == UnaryOp::Selu || op == UnaryOp::Sigmoid || op == UnaryOp::Tanh || op == UnaryOp::Exp;
}

// y[i] = op(x[i]) for i < n (serial; the caller splits the work). Only for has_vector_unary ops.
void unary_forward_avx2(UnaryOp op, const float* x, float* y, int64_t n);
void unary_forward_avx512(UnaryOp op, const float* x, float* y, int64_t n);
void unary_forward_neon(UnaryOp op, const float* x, float* y, int64_t n);

}  // namespace mpf::cpu
