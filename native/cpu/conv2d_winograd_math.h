// The Winograd minimal-filtering transforms for 3x3 convolutions (Lavin & Gray, 2016), written
// once for any value type V: float, double, or a GCC/Clang vector of them (one lane per tile).
//
// F(m x m, 3 x 3) computes an m x m output tile from an (m+2) x (m+2) input patch d and a 3 x 3
// kernel g as  y = At [ (G g Gt) .* (Bt d B) ] A,  with (m+2)^2 multiplications instead of 9 m^2.
// Wino<2> is F(2x2, 3x3) (interpolation points 0, +-1, inf: 2.25x fewer multiplications, errors
// like direct), Wino<4> F(4x4, 3x3) (points 0, 1, -1, 1/2, -2, inf: 4x, errors 1.3-3x F(2x2)'s
// in MPF-Net's passes), Wino<6> F(6x6, 3x3) (points 0, +-1, +-2, +-1/2, inf: 5.1x, errors ~10x
// F(4x4)'s; inference only), Wino<8> F(8x8, 3x3) (5.8x, errors ~10x F(6x6)'s; inference only).
//
// Besides the three transforms of the forward pass each variant has the adjoints the weight
// gradient needs: d loss / d g = Gt [ sum over tiles (A gy At) .* (Bt d B) ] G, i.e. out_adj
// (A applied to a gradient tile) and weight_adj (Gt applied to the summed products).
//
// Everything here has internal linkage (an unnamed namespace): the translation units that include
// it are compiled with different instruction sets, and the linker must never swap one's inlined
// copy for another's.
#pragma once
#include <type_traits>
#include <utility>

namespace mpf::cpu::winograd {
namespace {

// The element type of V (V itself for float and double), so constants keep V's precision.
template <typename V>
struct ElemOf {
  using type = std::remove_cv_t<std::remove_reference_t<decltype(std::declval<V&>()[0])>>;
};
template <>
struct ElemOf<float> {
  using type = float;
};
template <>
struct ElemOf<double> {
  using type = double;
};

template <int M>
struct Wino;

template <>
struct Wino<2> {
  static constexpr int m = 2, a = 4;
  // o = Bt d
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void in(const V (&d)[4], V (&o)[4]) {
    o[0] = d[0] - d[2];
    o[1] = d[1] + d[2];
    o[2] = d[2] - d[1];
    o[3] = d[1] - d[3];
  }
  // o = At t
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void out(const V (&t)[4], V (&o)[2]) {
    o[0] = t[0] + t[1] + t[2];
    o[1] = t[1] - t[2] - t[3];
  }
  // u = G g
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void weight(const V (&g)[3], V (&u)[4]) {
    const V h = (g[0] + g[2]) * S(0.5);
    const V k = g[1] * S(0.5);
    u[0] = g[0];
    u[1] = h + k;
    u[2] = h - k;
    u[3] = g[2];
  }
  // z = A y (the adjoint of out)
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void out_adj(const V (&y)[2], V (&z)[4]) {
    z[0] = y[0];
    z[1] = y[0] + y[1];
    z[2] = y[0] - y[1];
    z[3] = -y[1];
  }
  // g = Gt u (the adjoint of weight)
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void weight_adj(const V (&u)[4], V (&g)[3]) {
    const V s = (u[1] + u[2]) * S(0.5);
    g[0] = u[0] + s;
    g[1] = (u[1] - u[2]) * S(0.5);
    g[2] = u[3] + s;
  }
};

// F(4x4, 3x3) at the points 0, 1, -1, 1/2, -2, inf (in that order: rows of Bt, G and At alike)
// rather than the usual 0, +-1, +-2, inf. The same multiplications, but float32 lies about half as
// far from float64: in a simulation of MPF-Net's 24x24 weight gradients 6.5e-6 to 8.5e-6 of the
// largest elements against 1.3e-5 to 2.6e-5 (F(2x2): 2.1e-6 to 2.8e-6; the best of eight sets
// simulated; Barabasz et al. (2020) study how the choice of points sets Winograd's float error),
// and with every convolution in F(4x4) the x4 model's forward output lies 7.4e-7 to 8.2e-7 from
// float64 in norm against 9.0e-7 to 1.02e-6 at the usual points (F(2x2): 6.0e-7 to 6.6e-7).
// Bt and At are dyadic (exact in float); G's thirds and fifteenths are not, but G runs once per
// kernel (docs/performance.md, "The weight gradient in F(4x4)" and "Training's forward in F(4x4)").
template <>
struct Wino<4> {
  static constexpr int m = 4, a = 6;
  // Bt rows: [1 -3/2 -2 3/2 1 0], [0 -1 1/2 5/2 1 0], [0 1 -5/2 1/2 1 0], [0 -2 -1 2 1 0],
  // [0 1/2 -1 -1/2 1 0], [0 1 -3/2 -2 3/2 1], over r = d4 - d2 and s = d3 - d1.
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void in(const V (&d)[6], V (&o)[6]) {
    const V r = d[4] - d[2], s = d[3] - d[1];
    o[0] = d[0] + r - d[2] + S(1.5) * s;
    o[1] = r + s + S(1.5) * (d[2] + d[3]);
    o[2] = r - s + S(1.5) * (d[3] - d[2]);
    o[3] = r + S(2) * s;
    o[4] = r - S(0.5) * s;
    o[5] = d[5] - s - d[3] + S(1.5) * r;
  }
  // o_k = sum over the finite points p of p^k t(p), plus t(inf) for k = 3.
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void out(const V (&t)[6], V (&o)[4]) {
    const V s1 = t[1] + t[2], d1 = t[1] - t[2];
    o[0] = t[0] + s1 + t[3] + t[4];
    o[1] = d1 + S(0.5) * t[3] - S(2) * t[4];
    o[2] = s1 + S(0.25) * t[3] + S(4) * t[4];
    o[3] = d1 + S(0.125) * t[3] - S(8) * t[4] + t[5];
  }
  // G rows p^k / prod over the other finite points (p - q): [1 0 0], [1 1 1]/3, [-1 1 -1]/3,
  // [-16 -8 -4]/15, [1 -2 4]/15, [0 0 1]. Summed left to right, as measured: the golden test's
  // weights after Adam jump when any rounding here changes (docs/performance.md, "Training's
  // forward in F(4x4)").
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void weight(const V (&g)[3], V (&u)[6]) {
    u[0] = g[0];
    u[1] = (g[0] + g[1] + g[2]) * (S(1) / S(3));
    u[2] = (g[0] - g[1] + g[2]) * (S(-1) / S(3));
    u[3] = (g[0] * S(16) + g[1] * S(8) + g[2] * S(4)) * (S(-1) / S(15));
    u[4] = (g[0] - g[1] * S(2) + g[2] * S(4)) * (S(1) / S(15));
    u[5] = g[2];
  }
  // z(p) = y0 + p y1 + p^2 y2 + p^3 y3 at each finite point, y3 at infinity.
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void out_adj(const V (&y)[4], V (&z)[6]) {
    const V e = y[0] + y[2], o = y[1] + y[3];
    z[0] = y[0];
    z[1] = e + o;
    z[2] = e - o;
    z[3] = ((y[3] * S(0.5) + y[2]) * S(0.5) + y[1]) * S(0.5) + y[0];
    z[4] = ((y[3] * S(-2) + y[2]) * S(-2) + y[1]) * S(-2) + y[0];
    z[5] = y[3];
  }
  // g = Gt u.
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void weight_adj(const V (&u)[6], V (&g)[3]) {
    const V s12 = u[1] + u[2], d12 = u[1] - u[2];
    g[0] = u[0] + d12 * (S(1) / S(3)) - u[3] * (S(16) / S(15)) + u[4] * (S(1) / S(15));
    g[1] = s12 * (S(1) / S(3)) - u[3] * (S(8) / S(15)) - u[4] * (S(2) / S(15));
    g[2] = d12 * (S(1) / S(3)) - u[3] * (S(4) / S(15)) + u[4] * (S(4) / S(15)) + u[5];
  }
};

// F(6x6, 3x3), points 0, +-1, +-2, +-1/2, inf (in that order: rows of Bt, G and At alike): 64
// multiplications per 36 outputs (5.1x fewer than direct), errors ~10x F(4x4)'s (Bt's 21/4 and
// 17/4, At's 32 and 1/32), so inference only ('fp32', inference_precision.h).
template <>
struct Wino<6> {
  static constexpr int m = 6, a = 8;
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void in(const V (&d)[8], V (&o)[8]) {
    const V a12 = d[2] + d[6] - S(4.25) * d[4], b12 = d[1] + d[5] - S(4.25) * d[3];
    const V a34 = d[6] + S(0.25) * d[2] - S(1.25) * d[4], b34 = S(0.5) * d[1] - S(2.5) * d[3] + S(2) * d[5];
    const V a56 = d[6] + S(4) * d[2] - S(5) * d[4], b56 = S(2) * d[1] - S(2.5) * d[3] + S(0.5) * d[5];
    o[0] = d[0] - d[6] + S(5.25) * (d[4] - d[2]);
    o[1] = a12 + b12;
    o[2] = a12 - b12;
    o[3] = a34 + b34;
    o[4] = a34 - b34;
    o[5] = a56 + b56;
    o[6] = a56 - b56;
    o[7] = d[7] - d[1] + S(5.25) * (d[3] - d[5]);
  }
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void out(const V (&t)[8], V (&o)[6]) {
    const V s1 = t[1] + t[2], d1 = t[1] - t[2];
    const V s2 = t[3] + t[4], d2 = t[3] - t[4];
    const V s3 = t[5] + t[6], d3 = t[5] - t[6];
    o[0] = t[0] + s1 + s2 + s3;
    o[1] = d1 + S(2) * d2 + S(0.5) * d3;
    o[2] = s1 + S(4) * s2 + S(0.25) * s3;
    o[3] = d1 + S(8) * d2 + S(0.125) * d3;
    o[4] = s1 + S(16) * s2 + S(0.0625) * s3;
    o[5] = d1 + S(32) * d2 + S(0.03125) * d3 + t[7];
  }
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void weight(const V (&g)[3], V (&u)[8]) {
    const V e1 = (g[0] + g[2]) * (S(-2) / S(9)), o1 = g[1] * (S(-2) / S(9));
    const V e2 = g[0] * (S(1) / S(90)) + g[2] * (S(2) / S(45)), o2 = g[1] * (S(1) / S(45));
    const V e3 = g[0] * (S(32) / S(45)) + g[2] * (S(8) / S(45)), o3 = g[1] * (S(16) / S(45));
    u[0] = g[0];
    u[1] = e1 + o1;
    u[2] = e1 - o1;
    u[3] = e2 + o2;
    u[4] = e2 - o2;
    u[5] = e3 + o3;
    u[6] = e3 - o3;
    u[7] = g[2];
  }
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void out_adj(const V (&y)[6], V (&z)[8]) {
    const V e1 = y[0] + y[2] + y[4], o1 = y[1] + y[3] + y[5];
    const V e2 = y[0] + S(4) * y[2] + S(16) * y[4], o2 = S(2) * y[1] + S(8) * y[3] + S(32) * y[5];
    const V e3 = y[0] + S(0.25) * y[2] + S(0.0625) * y[4], o3 = S(0.5) * y[1] + S(0.125) * y[3] + S(0.03125) * y[5];
    z[0] = y[0];
    z[1] = e1 + o1;
    z[2] = e1 - o1;
    z[3] = e2 + o2;
    z[4] = e2 - o2;
    z[5] = e3 + o3;
    z[6] = e3 - o3;
    z[7] = y[5];
  }
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void weight_adj(const V (&u)[8], V (&g)[3]) {
    const V s1 = u[1] + u[2], d1 = u[1] - u[2];
    const V s2 = u[3] + u[4], d2 = u[3] - u[4];
    const V s3 = u[5] + u[6], d3 = u[5] - u[6];
    g[0] = u[0] + s1 * (S(-2) / S(9)) + s2 * (S(1) / S(90)) + s3 * (S(32) / S(45));
    g[1] = d1 * (S(-2) / S(9)) + d2 * (S(1) / S(45)) + d3 * (S(16) / S(45));
    g[2] = s1 * (S(-2) / S(9)) + s2 * (S(2) / S(45)) + s3 * (S(8) / S(45)) + u[7];
  }
};

// F(8x8, 3x3), points 0, +-2, +-1/2, +-3/4, +-5/4, inf (in that order): 100 multiplications per
// 64 outputs (5.8x fewer than direct), errors ~10x F(6x6)'s (random data, float32: 1.6e-5 of the
// output's largest value against 1.9e-6; this set was the best of the 495 sets of four pairs drawn
// from 1/4 .. 3 that were tried), so inference only ('fp32', conv2d.cc). Written over the pairs +-p:
// with Q_p(x) = the product over the other pairs q of (x^2 - q^2), Bt's rows for +-p are
// x^2 Q_p(x) +- p x Q_p(x) (even and odd columns), At's columns for +-p are (+-p)^i, and G's rows are
// (1, +-p, p^2) / f_p with f_p = 2 p^2 Q_p(p). Every Bt and At coefficient is a dyadic fraction
// (exact in float); only G's 1/f are rounded.
template <>
struct Wino<8> {
  static constexpr int m = 8, a = 10;
  static constexpr double kP[4] = {2.0, 0.5, 0.75, 1.25};
  // Q_p's coefficients of x^0, x^2, x^4 (that of x^6 is 1), and p times them.
  static constexpr double kQ[4][3] = {
      {-0.2197265625, 1.41015625, -2.375}, {-3.515625, 9.37890625, -6.125}, {-1.5625, 7.640625, -5.8125}, {-0.5625, 3.390625, -4.8125}};
  static constexpr double kPQ[4][3] = {{-0.439453125, 2.8203125, -4.75},
                                       {-1.7578125, 4.689453125, -3.0625},
                                       {-1.171875, 5.73046875, -4.359375},
                                       {-0.703125, 4.23828125, -6.015625}};
  // The product over all four pairs of (x^2 - q^2): coefficients of x^0 .. x^6 (x^8: 1); its
  // value at 0 is f for the point 0.
  static constexpr double kQall[4] = {0.87890625, -5.8603515625, 10.91015625, -6.375};
  static constexpr double kF[4] = {32175.0 / 128, -1575.0 / 2048, 2475.0 / 2048, -20475.0 / 2048};
  static constexpr double kF0 = 0.87890625;
  // kPow[i][k] = kP[i]^k (exact).
  static constexpr double kPow[4][8] = {{1, 2, 4, 8, 16, 32, 64, 128},
                                        {1, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125},
                                        {1, 0.75, 0.5625, 0.421875, 0.31640625, 0.2373046875, 0.177978515625, 0.13348388671875},
                                        {1, 1.25, 1.5625, 1.953125, 2.44140625, 3.0517578125, 3.814697265625, 4.76837158203125}};

  // The sums and differences of the values at the points +p and -p (p = kP[i]).
  template <typename V>
  static inline void pair_sums(const V (&t)[10], V (&s)[4], V (&df)[4]) {
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      s[i] = t[1 + 2 * i] + t[2 + 2 * i];
      df[i] = t[1 + 2 * i] - t[2 + 2 * i];
    }
  }

  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void in(const V (&d)[10], V (&o)[10]) {
    o[0] = S(kQall[0]) * d[0] + S(kQall[1]) * d[2] + S(kQall[2]) * d[4] + S(kQall[3]) * d[6] + d[8];
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      const V e = S(kQ[i][0]) * d[2] + S(kQ[i][1]) * d[4] + S(kQ[i][2]) * d[6] + d[8];
      const V od = S(kPQ[i][0]) * d[1] + S(kPQ[i][1]) * d[3] + S(kPQ[i][2]) * d[5] + S(kP[i]) * d[7];
      o[1 + 2 * i] = e + od;
      o[2 + 2 * i] = e - od;
    }
    o[9] = S(kQall[0]) * d[1] + S(kQall[1]) * d[3] + S(kQall[2]) * d[5] + S(kQall[3]) * d[7] + d[9];
  }
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void out(const V (&t)[10], V (&o)[8]) {
    V s[4], df[4];
    pair_sums(t, s, df);
    o[0] = t[0] + s[0] + s[1] + s[2] + s[3];
#pragma GCC unroll 7
    for (int k = 1; k < 8; ++k) {
      const V(&x)[4] = k % 2 ? df : s;
      o[k] = S(kPow[0][k]) * x[0] + S(kPow[1][k]) * x[1] + S(kPow[2][k]) * x[2] + S(kPow[3][k]) * x[3];
    }
    o[7] = o[7] + t[9];
  }
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void weight(const V (&g)[3], V (&u)[10]) {
    u[0] = g[0] * S(1 / kF0);
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      const V e = g[0] * S(1 / kF[i]) + g[2] * S(kP[i] * kP[i] / kF[i]), od = g[1] * S(kP[i] / kF[i]);
      u[1 + 2 * i] = e + od;
      u[2 + 2 * i] = e - od;
    }
    u[9] = g[2];
  }
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void out_adj(const V (&y)[8], V (&z)[10]) {
    z[0] = y[0];
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      V e = y[0], od = S(kP[i]) * y[1];
#pragma GCC unroll 3
      for (int k = 2; k < 8; k += 2) {
        e = e + S(kPow[i][k]) * y[k];
        od = od + S(kPow[i][k + 1]) * y[k + 1];
      }
      z[1 + 2 * i] = e + od;
      z[2 + 2 * i] = e - od;
    }
    z[9] = y[7];
  }
  template <typename V, typename S = typename ElemOf<V>::type>
  static inline void weight_adj(const V (&u)[10], V (&g)[3]) {
    V s[4], df[4];
    pair_sums(u, s, df);
    g[0] = u[0] * S(1 / kF0) + s[0] * S(1 / kF[0]) + s[1] * S(1 / kF[1]) + s[2] * S(1 / kF[2]) + s[3] * S(1 / kF[3]);
    g[1] = df[0] * S(kP[0] / kF[0]) + df[1] * S(kP[1] / kF[1]) + df[2] * S(kP[2] / kF[2]) + df[3] * S(kP[3] / kF[3]);
    g[2] = s[0] * S(kP[0] * kP[0] / kF[0]) + s[1] * S(kP[1] * kP[1] / kF[1]) + s[2] * S(kP[2] * kP[2] / kF[2]) +
           s[3] * S(kP[3] * kP[3] / kF[3]) + u[9];
  }
};

// ---- 2-D: the 1-D transforms along rows, then along columns --------------------------------------

// o = Bt d B for an a x a patch.
template <int M, typename V>
inline void input_2d(const V (&d)[M + 2][M + 2], V (&o)[M + 2][M + 2]) {
  using W = Wino<M>;
  constexpr int A = M + 2;
  V t[A][A];
  for (int r = 0; r < A; ++r) W::in(d[r], t[r]);  // t = d B (rows)
  for (int j = 0; j < A; ++j) {
    V col[A], res[A];
    for (int r = 0; r < A; ++r) col[r] = t[r][j];
    W::in(col, res);
    for (int i = 0; i < A; ++i) o[i][j] = res[i];
  }
}

// y = At t A for an a x a product tile.
template <int M, typename V>
inline void output_2d(const V (&t)[M + 2][M + 2], V (&y)[M][M]) {
  using W = Wino<M>;
  constexpr int A = M + 2;
  V h[A][M];
  for (int r = 0; r < A; ++r) W::out(t[r], h[r]);
  for (int j = 0; j < M; ++j) {
    V col[A], res[M];
    for (int r = 0; r < A; ++r) col[r] = h[r][j];
    W::out(col, res);
    for (int i = 0; i < M; ++i) y[i][j] = res[i];
  }
}

// z = A y At for an m x m gradient tile.
template <int M, typename V>
inline void out_adj_2d(const V (&y)[M][M], V (&z)[M + 2][M + 2]) {
  using W = Wino<M>;
  constexpr int A = M + 2;
  V h[M][A];
  for (int r = 0; r < M; ++r) W::out_adj(y[r], h[r]);
  for (int j = 0; j < A; ++j) {
    V col[M], res[A];
    for (int r = 0; r < M; ++r) col[r] = h[r][j];
    W::out_adj(col, res);
    for (int i = 0; i < A; ++i) z[i][j] = res[i];
  }
}

// g = Gt u G for an a x a tile of summed products.
template <int M, typename V>
inline void weight_adj_2d(const V (&u)[M + 2][M + 2], V (&g)[3][3]) {
  using W = Wino<M>;
  constexpr int A = M + 2;
  V h[A][3];
  for (int r = 0; r < A; ++r) W::weight_adj(u[r], h[r]);
  for (int j = 0; j < 3; ++j) {
    V col[A], res[3];
    for (int r = 0; r < A; ++r) col[r] = h[r][j];
    W::weight_adj(col, res);
    for (int i = 0; i < 3; ++i) g[i][j] = res[i];
  }
}

}  // namespace
}  // namespace mpf::cpu::winograd
