// exp and expm1 for float32 vectors, written once over a vector type V (cpu/simd/vec.h) and
// instantiated by the per-ISA unary files (unary_avx2.cc, unary_avx512.cc, unary_neon.cc). The
// vector types live in unnamed namespaces, so each ISA's instantiations stay private to its file.
//
// Method: x = n ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2 (Cody-Waite: ln2 split in a
// part exact in float and a small correction); expm1(r) = r + r^2 P(r), P the Taylor polynomial
// through r^7 (truncation < 2e-8 relative on that interval, below half an ulp); then
//   exp(x)   = 2^n (1 + expm1(r)),  scaled in two halves so results down to the subnormals and up
//              to overflow round like a single multiply;
//   expm1(x) = 2^n expm1(r) + (2^n - 1), exact in its last step for n = 0, which keeps expm1
//              accurate near 0 where exp(x) - 1 would cancel.
// Both are within 1-2 ulp of the correctly rounded result (checked against float64 in the tests).
// Clamping uses max(lo, min(hi, x)) with x second: min/max return their second operand when one is
// NaN, so NaN inputs propagate.
#pragma once

namespace mpf::simd {

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;       // ln 2 rounded to 9 bits: n * kLn2Hi is exact
constexpr float kLn2Lo = -2.12194440e-4f;    // ln 2 - kLn2Hi

template <class V>
struct Exp {
  using F = typename V::F;
  using I = typename V::I;

  // Splits clamped x into r and n (as an integer).
  static inline F reduce(F x, I& n) {
    const F nf = V::round(V::mul(x, V::set1(kLog2e)));
    F r = V::fmadd(nf, V::set1(-kLn2Hi), x);
    r = V::fmadd(nf, V::set1(-kLn2Lo), r);
    n = V::to_int(nf);
    return r;
  }

  // expm1(r) for |r| <= ln2 / 2.
  static inline F expm1_small(F r) {
    F p = V::set1(1.0f / 5040);
    p = V::fmadd(p, r, V::set1(1.0f / 720));
    p = V::fmadd(p, r, V::set1(1.0f / 120));
    p = V::fmadd(p, r, V::set1(1.0f / 24));
    p = V::fmadd(p, r, V::set1(1.0f / 6));
    p = V::fmadd(p, r, V::set1(0.5f));
    return V::fmadd(V::mul(r, r), p, r);
  }

  static inline F clamp(F x, float lo, float hi) { return V::max(V::set1(lo), V::min(V::set1(hi), x)); }

  // e^x; 0 below -104 (under half the smallest subnormal), inf above 88.73.
  static inline F exp(F x) {
    I n;
    const F r = reduce(clamp(x, -104.0f, 89.0f), n);
    const I n1 = V::srai1(n);        // n in [-150, 129]: each half is a normal power of two
    const I n2 = V::isub(n, n1);
    const F m = V::add(expm1_small(r), V::set1(1.0f));
    return V::mul(V::mul(m, V::pow2(n1)), V::pow2(n2));
  }

  // e^x - 1 for x in [-87, 88] (clamped: outside, the float result is -1 or beyond our callers).
  static inline F expm1(F x) {
    I n;
    const F r = reduce(clamp(x, -87.0f, 88.0f), n);
    const F s = V::pow2(n);  // n in [-126, 127]: a normal power of two
    return V::fmadd(s, expm1_small(r), V::sub(s, V::set1(1.0f)));
  }

  // e^x for x <= 0 in fewer instructions, for the inference precisions only (SELU in their
  // convolutions' output transforms, UnaryOps::selu_inference): x log2(e) = n + f with |f| <= 1/2,
  // 2^f by a degree-5 polynomial fitted to relative error (2.4e-7 at most, float32 evaluation
  // included: about 2 ulp, against exp's 1-2), 2^n by V::scale_pow2 (one vscalefps on AVX-512, no
  // integer exponent). Below -87.3 (t < -126) the result is 2^-126 times ~1, where e^x is smaller
  // still: both are 0 to SELU's float32 output.
  static inline F exp_nonpositive_short(F x) {
    const F t = V::max(V::set1(-126.0f), V::mul(x, V::set1(kLog2e)));
    const F n = V::round(t);
    const F f = V::sub(t, n);
    F p = V::set1(1.32764666e-3f);
    p = V::fmadd(p, f, V::set1(9.67554096e-3f));
    p = V::fmadd(p, f, V::set1(5.55071346e-2f));
    p = V::fmadd(p, f, V::set1(2.40221202e-1f));
    p = V::fmadd(p, f, V::set1(6.93146944e-1f));
    p = V::fmadd(p, f, V::set1(1.0f));
    return V::scale_pow2(p, n);
  }
};

}  // namespace mpf::simd
