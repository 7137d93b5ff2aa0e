#include "cpu/maxpool.h"

#include <algorithm>
#include <cmath>

#include "common/thread_pool.h"

namespace mpf::cpu {
namespace {

// Offset of the maximum of window (oy, ox) in a plane, or -1 when the window is all padding
// (impossible with padding <= kernel / 2, kept for safety).
template <typename T>
int64_t window_argmax(const T* plane, const MaxPool2dGeometry& g, int64_t oy, int64_t ox) {
  const int64_t y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
  const int64_t ya = std::max<int64_t>(0, y0), yb = std::min(g.h, y0 + g.kh);
  const int64_t xa = std::max<int64_t>(0, x0), xb = std::min(g.w, x0 + g.kw);
  if (ya >= yb || xa >= xb) return -1;
  // PyTorch's rule: start at the window's first element with -inf, take v when v > max or v is
  // NaN (and stop there, NaN wins); ties keep the first.
  int64_t best = ya * g.w + xa;
  T bv = -INFINITY;
  for (int64_t y = ya; y < yb; ++y) {
    const T* row = plane + y * g.w;
    for (int64_t x = xa; x < xb; ++x) {
      const T v = row[x];
      if (!(v <= bv)) {
        best = y * g.w + x;
        bv = v;
        if (v != v) return best;
      }
    }
  }
  return best;
}

}  // namespace

template <typename T>
void max_pool2d_forward(const T* x, T* y, const MaxPool2dGeometry& g) {
  const int64_t hw = g.h * g.w, ohw = g.oh * g.ow;
  parallel_for(g.n * g.c * g.oh, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, g.ow * g.kh * g.kw)), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t plane = t / g.oh, oy = t % g.oh;
      const T* xp = x + plane * hw;
      T* yp = y + plane * ohw + oy * g.ow;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t at = window_argmax(xp, g, oy, ox);
        yp[ox] = at < 0 ? -INFINITY : xp[at];
      }
    }
  });
}

template <typename T>
void max_pool2d_backward(const T* x, const T* gy, T* gx, const MaxPool2dGeometry& g) {
  const int64_t hw = g.h * g.w, ohw = g.oh * g.ow;
  // Overlapping windows (stride < kernel) may pick the same input, so each plane is one task.
  parallel_for(g.n * g.c, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane) {
      const T* xp = x + plane * hw;
      const T* gyp = gy + plane * ohw;
      T* gxp = gx + plane * hw;
      std::fill(gxp, gxp + hw, T(0));
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          const int64_t at = window_argmax(xp, g, oy, ox);
          if (at >= 0) gxp[at] += gyp[oy * g.ow + ox];
        }
    }
  });
}

template void max_pool2d_forward<float>(const float*, float*, const MaxPool2dGeometry&);
template void max_pool2d_forward<double>(const double*, double*, const MaxPool2dGeometry&);
template void max_pool2d_backward<float>(const float*, const float*, float*, const MaxPool2dGeometry&);
template void max_pool2d_backward<double>(const double*, const double*, double*, const MaxPool2dGeometry&);

}  // namespace mpf::cpu
