// 2-D average pooling on the GPU (cpu/pool.h: count_include_pad, floor mode). The backward is a
// gather (each input sums the windows that cover it), so it needs no atomics and is deterministic.
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

__device__ __forceinline__ int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }
__device__ __forceinline__ int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

template <typename T>
__global__ void avg_pool_forward_kernel(const T* __restrict__ x, T* __restrict__ y, MpfPool2d g, int64_t total) {
  const T div = T(g.kh * g.kw);  // PyTorch divides (not multiplies by the inverse)
  MPF_GRID_LOOP(e, total) {
    int64_t t, ox, pc, oy;
    divmod(e, g.ow, t, ox);
    divmod(t, g.oh, pc, oy);
    const T* xp = x + pc * g.h * g.w;
    const int64_t y0 = imax(0, oy * g.sh - g.ph), y1 = imin(g.h, oy * g.sh - g.ph + g.kh);
    const int64_t x0 = imax(0, ox * g.sw - g.pw), x1 = imin(g.w, ox * g.sw - g.pw + g.kw);
    T s = 0;
    for (int64_t iy = y0; iy < y1; ++iy)
      for (int64_t ix = x0; ix < x1; ++ix) s += xp[iy * g.w + ix];
    y[e] = s / div;
  }
}

// Windows oy with oy·s − p <= i < oy·s − p + k, clipped to the output.
__device__ __forceinline__ void covering(int64_t i, int64_t k, int64_t s, int64_t p, int64_t o, int64_t& lo, int64_t& hi) {
  const int64_t a = i + p - k + 1;  // oy·s >= a
  lo = a <= 0 ? 0 : (a + s - 1) / s;
  hi = imin(o - 1, (i + p) / s);
}

template <typename T>
__global__ void avg_pool_backward_kernel(const T* __restrict__ gy, T* __restrict__ gx, MpfPool2d g, int64_t total) {
  const T div = T(g.kh * g.kw);
  MPF_GRID_LOOP(e, total) {
    int64_t t, ix, pc, iy;
    divmod(e, g.w, t, ix);
    divmod(t, g.h, pc, iy);
    const T* gp = gy + pc * g.oh * g.ow;
    int64_t oy0, oy1, ox0, ox1;
    covering(iy, g.kh, g.sh, g.ph, g.oh, oy0, oy1);
    covering(ix, g.kw, g.sw, g.pw, g.ow, ox0, ox1);
    T s = 0;
    for (int64_t oy = oy0; oy <= oy1; ++oy)
      for (int64_t ox = ox0; ox <= ox1; ++ox) s += gp[oy * g.ow + ox] / div;
    gx[e] = s;
  }
}

}  // namespace

MpfErr avg_pool2d_forward(int32_t dt, const void* x, void* y, const MpfPool2d* g) {
  return guard([&] {
    const int64_t total = g->n * g->c * g->oh * g->ow;
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(total), kThreads, avg_pool_forward_kernel<T>)(static_cast<const T*>(x), static_cast<T*>(y), *g,
                                                                               total);
    });
  });
}

MpfErr avg_pool2d_backward(int32_t dt, const void* gy, void* gx, const MpfPool2d* g) {
  return guard([&] {
    const int64_t total = g->n * g->c * g->h * g->w;
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(total), kThreads, avg_pool_backward_kernel<T>)(static_cast<const T*>(gy),
                                                                                static_cast<T*>(gx), *g, total);
    });
  });
}

}  // namespace mpf::cuda
