// Elementwise binary ops with numpy broadcasting on CPU (formulas in common/binary_math.h).
#pragma once
#include "common/binary_math.h"
#include "common/tensor.h"

namespace mpf::cpu {

// y (contiguous, shape y_shape = broadcast of a_shape and b_shape) = a op b.
template <typename T>
void binary_forward(BinaryOp op, const T* a, const Shape& a_shape, const T* b, const Shape& b_shape, T* y,
                    const Shape& y_shape);

// The gradient of input `which` (0: a, 1: b) given gy (shape y_shape), summed over the dims that
// input was broadcast along, so gin has that input's own shape.
template <typename T>
void binary_backward(BinaryOp op, int which, const T* a, const Shape& a_shape, const T* b, const Shape& b_shape,
                     const T* gy, const Shape& y_shape, T* gin);

// Both gradients in one pass, when a, b and y have one shape.
template <typename T>
void binary_backward_both(BinaryOp op, const T* a, const T* b, const T* gy, T* ga, T* gb, int64_t n);

}  // namespace mpf::cpu
