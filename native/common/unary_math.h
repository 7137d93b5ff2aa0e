// The arithmetic of every elementwise unary op, forward and backward side by side, written once
// as __host__ __device__ functions: the CPU kernels (native/cpu/unary.cc) and the CUDA kernels
// (native/cuda/unary.cu) both run exactly this code, so the CPU tests cover the formulas.
#pragma once
#include <cmath>
#include <type_traits>

#ifdef __CUDACC__
#define MPF_HD __host__ __device__ inline
#else
#define MPF_HD inline
#endif

namespace mpf {

// The op ids are shared with TypeScript (bindings/native.ts, UnaryOp) by name.
enum class UnaryOp : int {
  Relu, LeakyRelu, Selu, Sigmoid, Tanh, Exp, Log, Sqrt, Abs, Square, Clamp, Affine, Count
};

// SELU constants (Klambauer et al. 2017), the values PyTorch uses.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

// p0, p1: per-op parameters (LeakyRelu: slope; Clamp: lo, hi; Affine: y = p0*x + p1).
template <UnaryOp OP, typename T>
struct Unary;

template <typename T> struct Unary<UnaryOp::Relu, T> {
  MPF_HD static T fwd(T x, T, T) { return x > T(0) ? x : T(0); }
  MPF_HD static T bwd(T x, T, T g, T, T) { return x > T(0) ? g : T(0); }
};
template <typename T> struct Unary<UnaryOp::LeakyRelu, T> {
  MPF_HD static T fwd(T x, T s, T) { return x > T(0) ? x : x * s; }
  MPF_HD static T bwd(T x, T, T g, T s, T) { return x > T(0) ? g : g * s; }
};
template <typename T> struct Unary<UnaryOp::Selu, T> {
  MPF_HD static T fwd(T x, T, T) { return x > T(0) ? T(kSeluScale) * x : T(kSeluScale * kSeluAlpha) * std::expm1(x); }
  // From the output alone (y > 0 exactly when x > 0), so neither the unary op nor conv2d's fused
  // SELU (cpu/conv2d.h) keeps the input for backward: d/dx = scale for y > 0, and for x <= 0
  // scale*alpha*e^x = y + scale*alpha.
  MPF_HD static T bwd(T, T y, T g, T, T) { return y > T(0) ? T(kSeluScale) * g : (y + T(kSeluScale * kSeluAlpha)) * g; }
};
template <typename T> struct Unary<UnaryOp::Sigmoid, T> {
  MPF_HD static T fwd(T x, T, T) { return x >= T(0) ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x)); }
  MPF_HD static T bwd(T, T y, T g, T, T) { return g * y * (T(1) - y); }
};
template <typename T> struct Unary<UnaryOp::Tanh, T> {
  MPF_HD static T fwd(T x, T, T) { return std::tanh(x); }
  MPF_HD static T bwd(T, T y, T g, T, T) { return g * (T(1) - y * y); }
};
template <typename T> struct Unary<UnaryOp::Exp, T> {
  MPF_HD static T fwd(T x, T, T) { return std::exp(x); }
  MPF_HD static T bwd(T, T y, T g, T, T) { return g * y; }
};
template <typename T> struct Unary<UnaryOp::Log, T> {
  MPF_HD static T fwd(T x, T, T) { return std::log(x); }
  MPF_HD static T bwd(T x, T, T g, T, T) { return g / x; }
};
template <typename T> struct Unary<UnaryOp::Sqrt, T> {
  MPF_HD static T fwd(T x, T, T) { return std::sqrt(x); }
  MPF_HD static T bwd(T, T y, T g, T, T) { return g / (T(2) * y); }
};
template <typename T> struct Unary<UnaryOp::Abs, T> {
  MPF_HD static T fwd(T x, T, T) { return x < T(0) ? -x : x; }
  MPF_HD static T bwd(T x, T, T g, T, T) { return x > T(0) ? g : (x < T(0) ? -g : T(0)); }
};
template <typename T> struct Unary<UnaryOp::Square, T> {
  MPF_HD static T fwd(T x, T, T) { return x * x; }
  MPF_HD static T bwd(T x, T, T g, T, T) { return T(2) * x * g; }
};
template <typename T> struct Unary<UnaryOp::Clamp, T> {
  MPF_HD static T fwd(T x, T lo, T hi) { return x < lo ? lo : (x > hi ? hi : x); }
  // PyTorch passes the gradient where lo <= x <= hi (boundaries included).
  MPF_HD static T bwd(T x, T, T g, T lo, T hi) { return (x >= lo && x <= hi) ? g : T(0); }
};
template <typename T> struct Unary<UnaryOp::Affine, T> {
  MPF_HD static T fwd(T x, T a, T b) { return a * x + b; }
  MPF_HD static T bwd(T, T, T g, T a, T) { return a * g; }
};

template <UnaryOp OP>
using UnaryTag = std::integral_constant<UnaryOp, OP>;

// Calls f(UnaryTag<OP>{}) for the runtime op id: one switch, outside the hot loops.
template <typename F>
MPF_HD void dispatch_unary(UnaryOp op, F&& f) {
  switch (op) {
    case UnaryOp::Relu: f(UnaryTag<UnaryOp::Relu>{}); break;
    case UnaryOp::LeakyRelu: f(UnaryTag<UnaryOp::LeakyRelu>{}); break;
    case UnaryOp::Selu: f(UnaryTag<UnaryOp::Selu>{}); break;
    case UnaryOp::Sigmoid: f(UnaryTag<UnaryOp::Sigmoid>{}); break;
    case UnaryOp::Tanh: f(UnaryTag<UnaryOp::Tanh>{}); break;
    case UnaryOp::Exp: f(UnaryTag<UnaryOp::Exp>{}); break;
    case UnaryOp::Log: f(UnaryTag<UnaryOp::Log>{}); break;
    case UnaryOp::Sqrt: f(UnaryTag<UnaryOp::Sqrt>{}); break;
    case UnaryOp::Abs: f(UnaryTag<UnaryOp::Abs>{}); break;
    case UnaryOp::Square: f(UnaryTag<UnaryOp::Square>{}); break;
    case UnaryOp::Clamp: f(UnaryTag<UnaryOp::Clamp>{}); break;
    case UnaryOp::Affine: f(UnaryTag<UnaryOp::Affine>{}); break;
    default: break;
  }
}

}  // namespace mpf
