// The arithmetic of the elementwise binary ops, forward and both partial derivatives side by side,
// written once as __host__ __device__ functions: the CPU kernels (native/cpu/binary.cc) and the
// future CUDA kernels (native/cuda/binary.cu) run exactly this code.
#pragma once
#include <type_traits>

#include "common/unary_math.h"  // MPF_HD

namespace mpf {

// The op ids are shared with TypeScript (bindings/native.ts, BinaryOpName) by name.
enum class BinaryOp : int { Add, Sub, Mul, Div, Count };

// fwd(a, b) = y; da / db map the output's gradient g to the inputs' gradients (PyTorch's formulas).
template <BinaryOp OP, typename T>
struct Binary;

template <typename T> struct Binary<BinaryOp::Add, T> {
  MPF_HD static T fwd(T a, T b) { return a + b; }
  MPF_HD static T da(T g, T, T) { return g; }
  MPF_HD static T db(T g, T, T) { return g; }
};
template <typename T> struct Binary<BinaryOp::Sub, T> {
  MPF_HD static T fwd(T a, T b) { return a - b; }
  MPF_HD static T da(T g, T, T) { return g; }
  MPF_HD static T db(T g, T, T) { return -g; }
};
template <typename T> struct Binary<BinaryOp::Mul, T> {
  MPF_HD static T fwd(T a, T b) { return a * b; }
  MPF_HD static T da(T g, T, T b) { return g * b; }
  MPF_HD static T db(T g, T a, T) { return g * a; }
};
template <typename T> struct Binary<BinaryOp::Div, T> {
  MPF_HD static T fwd(T a, T b) { return a / b; }
  MPF_HD static T da(T g, T, T b) { return g / b; }
  // PyTorch: -grad * self / (other * other).
  MPF_HD static T db(T g, T a, T b) { return -g * a / (b * b); }
};

template <BinaryOp OP>
using BinaryTag = std::integral_constant<BinaryOp, OP>;

// Calls f(BinaryTag<OP>{}) for the runtime op id: one switch, outside the hot loops.
template <typename F>
MPF_HD void dispatch_binary(BinaryOp op, F&& f) {
  switch (op) {
    case BinaryOp::Add: f(BinaryTag<BinaryOp::Add>{}); break;
    case BinaryOp::Sub: f(BinaryTag<BinaryOp::Sub>{}); break;
    case BinaryOp::Mul: f(BinaryTag<BinaryOp::Mul>{}); break;
    case BinaryOp::Div: f(BinaryTag<BinaryOp::Div>{}); break;
    default: break;
  }
}

// The L1 loss is a binary elementwise op too.

// sign(d) * s with sign(0) = 0: the L1 loss gradient (PyTorch gives 0 where pred == target).
template <typename T>
MPF_HD T l1_grad(T d, T s) { return d > T(0) ? s : (d < T(0) ? -s : T(0)); }

}  // namespace mpf
