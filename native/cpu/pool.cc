#include "cpu/pool.h"

#include <algorithm>

#include "common/thread_pool.h"

namespace mpf::cpu {

// Both directions work one (n, c) plane per task: planes are independent, so the backward's
// scatter-add needs no synchronisation.
template <typename T>
void avg_pool2d_forward(const T* x, T* y, const Pool2dGeometry& g) {
  const T div = T(g.kh * g.kw);  // PyTorch divides (not multiplies by the inverse)
  const int64_t plane = g.h * g.w, oplane = g.oh * g.ow;
  parallel_for(g.n * g.c, std::max<int64_t>(1, (1 << 14) / plane), [&](int64_t lo, int64_t hi) {
    for (int64_t pc = lo; pc < hi; ++pc) {
      const T* xp = x + pc * plane;
      T* yp = y + pc * oplane;
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        const int64_t y0 = std::max<int64_t>(0, oy * g.sh - g.ph), y1 = std::min(g.h, oy * g.sh - g.ph + g.kh);
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          const int64_t x0 = std::max<int64_t>(0, ox * g.sw - g.pw), x1 = std::min(g.w, ox * g.sw - g.pw + g.kw);
          T s = 0;
          for (int64_t iy = y0; iy < y1; ++iy)
            for (int64_t ix = x0; ix < x1; ++ix) s += xp[iy * g.w + ix];
          yp[oy * g.ow + ox] = s / div;
        }
      }
    }
  });
}

template <typename T>
void avg_pool2d_backward(const T* gy, T* gx, const Pool2dGeometry& g) {
  const T div = T(g.kh * g.kw);  // PyTorch divides (not multiplies by the inverse)
  const int64_t plane = g.h * g.w, oplane = g.oh * g.ow;
  parallel_for(g.n * g.c, std::max<int64_t>(1, (1 << 14) / plane), [&](int64_t lo, int64_t hi) {
    for (int64_t pc = lo; pc < hi; ++pc) {
      T* gp = gx + pc * plane;
      const T* gyp = gy + pc * oplane;
      std::fill(gp, gp + plane, T(0));
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        const int64_t y0 = std::max<int64_t>(0, oy * g.sh - g.ph), y1 = std::min(g.h, oy * g.sh - g.ph + g.kh);
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          const int64_t x0 = std::max<int64_t>(0, ox * g.sw - g.pw), x1 = std::min(g.w, ox * g.sw - g.pw + g.kw);
          const T v = gyp[oy * g.ow + ox] / div;
          for (int64_t iy = y0; iy < y1; ++iy)
            for (int64_t ix = x0; ix < x1; ++ix) gp[iy * g.w + ix] += v;
        }
      }
    }
  });
}

template void avg_pool2d_forward<float>(const float*, float*, const Pool2dGeometry&);
template void avg_pool2d_forward<double>(const double*, double*, const Pool2dGeometry&);
template void avg_pool2d_backward<float>(const float*, float*, const Pool2dGeometry&);
template void avg_pool2d_backward<double>(const double*, double*, const Pool2dGeometry&);

}  // namespace mpf::cpu
