#include "cpu/upsample_tail.h"

#include <algorithm>
#include <memory>
#include <type_traits>
#include <vector>

#include "common/cpu_features.h"
#include "common/thread_pool.h"
#include "cpu/conv2d.h"
#include "cpu/gemm.h"
#include "cpu/shape.h"
#include "cpu/simd/vec_portable.h"
#include "cpu/upsample_tail_simd.h"

namespace mpf::cpu {
namespace {

constexpr int kTaps = 9;      // a 3x3 kernel
constexpr int kComposed = 25;  // the composed 5x5 kernel

// Where tap k (0..2) of the tail, at output sub-position a (0..r-1), lands before the shuffle: the
// offset d (-1, 0 or 1) from the output pixel's pre-shuffle row and the sub-row p (0..r-1) it reads.
struct Landing {
  int64_t d, p;
};
Landing landing(int64_t a, int k, int64_t r) {
  const int64_t t = a + k - 1;  // -1 .. r
  const int64_t d = t < 0 ? -1 : t / r;
  return {d, t - d * r};
}

// Which side of the output a tail tap would fall off: 0 none, 1 the first row (column), 2 the last.
// A tap of row index ky falls off the first row when ky == 0 and off the last when ky == 2.
bool excluded(int side, int k) { return (side == 1 && k == 0) || (side == 2 && k == 2); }

template <typename T>
class Composer {
 public:
  Composer(const UpsampleTailShape& s, const T* wz, const T* bz, const T* wt, const T* bt)
      : s_(s), bt_(bt), ci9_(s.in_channels * kTaps), r2_(s.r * s.r) {
    const int64_t cm = s.mid_channels;
    prod_.assign(size_t(s.out_channels * r2_ * kTaps * ci9_), T(0));
    prod_bias_.assign(size_t(s.out_channels * r2_ * kTaps), T(0));
    for (int64_t o = 0; o < s.out_channels; ++o)
      for (int64_t pq = 0; pq < r2_; ++pq) {
        // prod[o][pq][tap][:] = sum over c of wt[o][c][tap] · wz[c·r² + pq][:] (the stage's kernels
        // of sub-position pq, weighted by the tail's tap): one 9 x (in·9) x mid product.
        T* dst = &prod_[size_t((o * r2_ + pq) * kTaps * ci9_)];
        gemm<T>(true, false, kTaps, ci9_, cm, wt + o * cm * kTaps, kTaps, wz + pq * ci9_, r2_ * ci9_, dst, ci9_);
        if (!bz) continue;
        for (int tap = 0; tap < kTaps; ++tap) {
          T acc = 0;
          for (int64_t c = 0; c < cm; ++c) acc += wt[(o * cm + c) * kTaps + tap] * bz[c * r2_ + pq];
          prod_bias_[size_t((o * r2_ + pq) * kTaps + tap)] = acc;
        }
      }
  }

  // The 5x5 kernel (in_channels x 25) and bias that tail taps (ky, kx) of output channel o at
  // sub-position (a, b) contribute, over the taps `take` accepts.
  template <class Take>
  void build(int64_t o, int64_t a, int64_t b, Take take, T* k, T& bias) const {
    std::fill(k, k + s_.in_channels * kComposed, T(0));
    bias = 0;
    for (int ky = 0; ky < 3; ++ky)
      for (int kx = 0; kx < 3; ++kx)
        if (take(ky, kx)) add_tap(o, a, b, ky, kx, k, bias);
  }

  // The whole composed kernel: every output channel and sub-position, (out·r², in, 5, 5), with the
  // tail's bias added.
  void build_all(T* w, T* bias) const {
    for (int64_t o = 0; o < s_.out_channels; ++o)
      for (int64_t a = 0; a < s_.r; ++a)
        for (int64_t b = 0; b < s_.r; ++b) {
          const int64_t oc = (o * s_.r + a) * s_.r + b;  // pixel_shuffle's channel order
          build(o, a, b, [](int, int) { return true; }, w + oc * s_.in_channels * kComposed, bias[oc]);
          if (bt_) bias[oc] += bt_[o];
        }
  }

 private:
  void add_tap(int64_t o, int64_t a, int64_t b, int ky, int kx, T* k, T& bias) const {
    const Landing ly = landing(a, ky, s_.r), lx = landing(b, kx, s_.r);
    const int64_t at = (o * r2_ + ly.p * s_.r + lx.p) * kTaps + ky * 3 + kx;
    const T* src = &prod_[size_t(at * ci9_)];
    for (int64_t ci = 0; ci < s_.in_channels; ++ci)
      for (int u = 0; u < 3; ++u) {
        // The stage's tap (u, v) at pre-shuffle offset (d_y, d_x) reads x at offset
        // (d_y + u - 1, d_x + v - 1), which is tap (d_y + u + 1, d_x + v + 1) of the 5x5 kernel.
        T* dst = k + ci * kComposed + (ly.d + u + 1) * 5 + (lx.d + 1);
        const T* sp = src + ci * kTaps + u * 3;
        for (int v = 0; v < 3; ++v) dst[v] += sp[v];
      }
    bias += prod_bias_[size_t(at)];
  }

  const UpsampleTailShape& s_;
  const T* bt_;
  const int64_t ci9_, r2_;
  std::vector<T> prod_, prod_bias_;
};

// acc[t - lo] = bias + sum of k · x over the 5x5 window at the pixels (f, t), t in [lo, hi), of row
// f of image xi (channels x h x w). Taps outside x count zero.
template <typename T>
void row_sum(const T* xi, int64_t channels, int64_t h, int64_t w, const T* k, T bias, int64_t f, int64_t lo, int64_t hi,
             T* acc) {
  std::fill(acc, acc + (hi - lo), bias);
  for (int64_t ci = 0; ci < channels; ++ci)
    for (int i = 0; i < 5; ++i) {
      const int64_t y = f + i - 2;
      if (y < 0 || y >= h) continue;
      for (int j = 0; j < 5; ++j) {
        const T d = k[ci * kComposed + i * 5 + j];
        if (d == T(0)) continue;
        const T* src = xi + (ci * h + y) * w + (j - 2);
        for (int64_t t = std::max(lo, int64_t(2 - j)); t < std::min(hi, w + 2 - j); ++t) acc[t - lo] += d * src[t];
      }
    }
}

using RowKernel = void (*)(const simd::ComposedConvRow&, int64_t);

void composed_conv_row_portable(const simd::ComposedConvRow& a, int64_t row) {
  simd::composed_conv_row<simd::VecPortable, 1, kComposedGroup>(a, row);
}

RowKernel row_kernel() {
#if defined(MPF_X86)
  if (simd_level() == Simd::AVX512) return composed_conv_row_avx512;
  if (simd_level() == Simd::AVX2) return composed_conv_row_avx2;
#elif defined(MPF_NEON)
  if (simd_level() == Simd::Neon) return composed_conv_row_neon;
#endif
  return composed_conv_row_portable;
}

// pre (batch, outputs, h, w) = the composed convolution of x: float32 through the vector kernel,
// kComposedGroup outputs at a time (the last group padded with zero weights); float64 (the
// reference) through conv2d's direct loops.
template <typename T>
void composed_conv(const UpsampleTailShape& s, const T* x, const std::vector<T>& wc, const std::vector<T>& bc, T* pre) {
  const int64_t outputs = int64_t(bc.size()), ci = s.in_channels, hw = s.h * s.w;
  if constexpr (std::is_same_v<T, float>) {
    constexpr int G = kComposedGroup;
    const int64_t groups = (outputs + G - 1) / G;
    std::vector<float> wp(size_t(groups * ci * kComposed * G), 0.0f), bp(size_t(groups * G), 0.0f);
    for (int64_t oc = 0; oc < outputs; ++oc) {
      const int64_t g = oc / G, o = oc % G;
      bp[size_t(g * G + o)] = bc[size_t(oc)];
      for (int64_t c = 0; c < ci; ++c)
        for (int t = 0; t < kComposed; ++t) wp[size_t(((g * ci + c) * kComposed + t) * G + o)] = wc[size_t((oc * ci + c) * kComposed + t)];
    }
    const RowKernel kernel = row_kernel();
    // Tasks in memory order (image, group, row), so a thread's rows share their input rows in cache.
    parallel_tasks(s.batch * groups * s.h, [&](int64_t task) {
      // Each pool thread's scratch for blocks at the image's sides, kept between calls (83 KB for
      // 52 channels); baseline code, so the vector's functions are compiled for the baseline ISA.
      thread_local std::vector<float> edge;
      edge.resize(size_t(ci * 5 * simd::kComposedEdgeRow));
      const int64_t row = task % s.h, g = task / s.h % groups, img = task / s.h / groups;
      simd::ComposedConvRow a;
      a.x = x + img * ci * hw;
      a.in_channels = ci;
      a.h = s.h;
      a.w = s.w;
      a.weights = &wp[size_t(g * ci * kComposed * G)];
      a.bias = &bp[size_t(g * G)];
      a.y = pre + (img * outputs + g * G) * hw;
      a.plane_stride = hw;
      a.outputs = int(std::min<int64_t>(G, outputs - g * G));
      a.edge = edge.data();
      kernel(a, row);
    });
  } else {
    Conv2dShape cs;
    cs.batch = s.batch;
    cs.in_channels = {ci};
    cs.in_h = s.h;
    cs.in_w = s.w;
    cs.out_channels = outputs;
    cs.kernel_h = cs.kernel_w = 5;
    cs.pad_h = cs.pad_w = 2;
    conv2d_forward<T>(cs, {x}, wc.data(), bc.data(), pre);
  }
}

}  // namespace

template <typename T>
void upsample_tail_forward(const UpsampleTailShape& s, const T* x, const T* wz, const T* bz, const T* wt, const T* bt, T* out) {
  const int64_t r = s.r, n = s.batch, ci = s.in_channels, h = s.h, w = s.w, co = s.out_channels;
  const int64_t ocs = co * r * r, rh = r * h, rw = r * w;
  const Composer<T> comp(s, wz, bz, wt, bt);

  // Everywhere but the frame: the composed convolution, then the shuffle.
  std::vector<T> wc(size_t(ocs * ci * kComposed)), bc(static_cast<size_t>(ocs));
  comp.build_all(wc.data(), bc.data());
  const std::unique_ptr<T[]> pre(new T[size_t(n * ocs * h * w)]);  // every element is written
  composed_conv(s, x, wc, bc, pre.get());
  pixel_shuffle(pre.get(), out, n, co, h, w, r);

  // The frame: subtract what the tail's taps that fall outside the output contributed. Each side
  // (and each corner) has its own kernels, one per output channel and sub-position along it.
  // Tasks: image × side (0 top, 1 bottom, 2 left, 3 right); the rows take the corners.
  parallel_tasks(n * 4, [&](int64_t task) {
    const int64_t img = task / 4;
    const int side = int(task % 4);
    const T* xi = x + img * ci * h * w;
    std::vector<T> k(size_t(ci * kComposed)), kt(k.size());
    std::vector<T> acc(size_t(std::max(h, w)));
    // A column side reads x's first (or last) three columns only: transposed into cols (channel,
    // column, row), they are read along rows like the top and bottom sides, instead of one cache
    // line per pixel for every kernel.
    const int64_t c0 = side == 3 ? std::max<int64_t>(0, w - 3) : 0, kc = std::min<int64_t>(3, w);
    std::vector<T> cols;
    if (side >= 2) {
      cols.resize(size_t(ci * kc * h));
      for (int64_t c = 0; c < ci; ++c)
        for (int64_t y = 0; y < h; ++y)
          for (int64_t q = 0; q < kc; ++q) cols[size_t((c * kc + q) * h + y)] = xi[(c * h + y) * w + c0 + q];
    }
    T bias = 0;
    auto subtract = [&](int ey, int ex, int64_t o, int64_t a, int64_t b, bool along_row, int64_t f, int64_t lo, int64_t hi) {
      if (lo >= hi) return;
      comp.build(o, a, b, [&](int ky, int kx) { return excluded(ey, ky) || excluded(ex, kx); }, k.data(), bias);
      if (along_row) {
        row_sum(xi, ci, h, w, k.data(), bias, f, lo, hi, acc.data());
      } else {
        for (int64_t c = 0; c < ci; ++c)
          for (int i = 0; i < 5; ++i)
            for (int j = 0; j < 5; ++j) kt[size_t(c * kComposed + j * 5 + i)] = k[size_t(c * kComposed + i * 5 + j)];
        row_sum(cols.data(), ci, kc, h, kt.data(), bias, f - c0, lo, hi, acc.data());
      }
      T* oo = out + (img * co + o) * rh * rw;
      for (int64_t t = lo; t < hi; ++t) {
        const int64_t R = along_row ? r * f + a : r * t + a, C = along_row ? r * t + b : r * f + b;
        oo[R * rw + C] -= acc[size_t(t - lo)];
      }
    };
    // r >= 2, so no row is both the first and the last, and no sub-position both corners.
    for (int64_t o = 0; o < co; ++o) {
      if (side < 2) {  // the first or the last output row, corners included
        const int ey = side + 1;
        const int64_t y = side == 0 ? 0 : h - 1, a = side == 0 ? 0 : r - 1;
        for (int64_t b = 0; b < r; ++b) {
          const bool left_corner = b == 0, right_corner = b == r - 1;
          subtract(ey, 0, o, a, b, true, y, left_corner ? 1 : 0, right_corner ? w - 1 : w);
          if (left_corner) subtract(ey, 1, o, a, b, true, y, 0, 1);
          if (right_corner) subtract(ey, 2, o, a, b, true, y, w - 1, w);
        }
      } else {  // the first or the last output column, between the rows
        const int ex = side - 1;
        const int64_t xcol = side == 2 ? 0 : w - 1, b = side == 2 ? 0 : r - 1;
        for (int64_t a = 0; a < r; ++a) {
          // Output rows r·y + a in [1, r·h - 2].
          const int64_t lo = a == 0 ? 1 : 0, hi = a == r - 1 ? h - 1 : h;
          subtract(0, ex, o, a, b, false, xcol, lo, hi);
        }
      }
    }
  });
}

template void upsample_tail_forward<float>(const UpsampleTailShape&, const float*, const float*, const float*, const float*,
                                           const float*, float*);
template void upsample_tail_forward<double>(const UpsampleTailShape&, const double*, const double*, const double*,
                                            const double*, const double*, double*);

}  // namespace mpf::cpu
