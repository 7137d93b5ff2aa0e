// The exp-based unary ops over a vector-traits type V, and the loop that applies one to an array
// (full vectors, then the tail through a padded buffer), over a vector type V (cpu/simd/vec.h).
// Instantiated by unary_avx2.cc, unary_avx512.cc, unary_neon.cc (and the portable type in
// native/tools/check_simd.cc, the reference those are checked against).
#pragma once
#include <cstdint>
#include <cstring>

#include "common/unary_math.h"
#include "cpu/simd/exp.h"

namespace mpf::simd {

template <class V>
struct UnaryOps {
  using F = typename V::F;
  using E = Exp<V>;

  static inline F selu(F x) {
    const F pos = V::mul(V::set1(float(kSeluScale)), x);
    const F neg = V::mul(V::set1(float(kSeluScale * kSeluAlpha)), E::expm1(V::min(V::set1(0.0f), x)));
    return V::select(V::gt(x, V::set1(0.0f)), pos, neg);
  }
  // SELU for the inference precisions' convolutions ('fp32', 'bf16'; conv2d_winograd_kernels.h,
  // output_tiles): e^x - 1 as the short exp minus 1, within 4e-7 of float64 relative to
  // max(|selu|, 1) (check_simd's bound; 2.8e-7 measured; selu() keeps full relative accuracy near 0
  // through expm1), in ~15 instructions against ~24. Training and 'strict' keep selu().
  static inline F selu_inference(F x) {
    const F e = E::exp_nonpositive_short(V::min(V::set1(0.0f), x));
    const F neg = V::fmadd(e, V::set1(float(kSeluScale * kSeluAlpha)), V::set1(float(-kSeluScale * kSeluAlpha)));
    return V::select(V::gt(x, V::set1(0.0f)), V::mul(V::set1(float(kSeluScale)), x), neg);
  }
  // 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below, both from t = e^-|x| <= 1: no overflow,
  // and full relative accuracy for very negative x.
  static inline F sigmoid(F x) {
    const F t = E::exp(V::neg(V::abs(x)));
    const F d = V::add(V::set1(1.0f), t);
    return V::select(V::ge(x, V::set1(0.0f)), V::div(V::set1(1.0f), d), V::div(t, d));
  }
  // tanh x = e / (e + 2) with e = expm1(2x): no cancellation near 0. |x| > 10 rounds to +-1.
  static inline F tanh(F x) {
    const F e = E::expm1(V::add(E::clamp(x, -10.0f, 10.0f), E::clamp(x, -10.0f, 10.0f)));
    return V::div(e, V::add(e, V::set1(2.0f)));
  }
  static inline F exp(F x) { return E::exp(x); }
};

template <class V, class Op>
inline void apply(const float* x, float* y, int64_t n, Op op) {
  constexpr int W = V::kWidth;
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(y + i, op(V::load(x + i)));
  if (i < n) {
    float buf[W] = {};
    std::memcpy(buf, x + i, size_t(n - i) * sizeof(float));
    V::store(buf, op(V::load(buf)));
    std::memcpy(y + i, buf, size_t(n - i) * sizeof(float));
  }
}

template <class V>
inline void unary_forward(UnaryOp op, const float* x, float* y, int64_t n) {
  using O = UnaryOps<V>;
  switch (op) {
    case UnaryOp::Selu: apply<V>(x, y, n, [](typename V::F v) { return O::selu(v); }); break;
    case UnaryOp::Sigmoid: apply<V>(x, y, n, [](typename V::F v) { return O::sigmoid(v); }); break;
    case UnaryOp::Tanh: apply<V>(x, y, n, [](typename V::F v) { return O::tanh(v); }); break;
    case UnaryOp::Exp: apply<V>(x, y, n, [](typename V::F v) { return O::exp(v); }); break;
    default: break;
  }
}

}  // namespace mpf::simd
