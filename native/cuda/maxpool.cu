// 2-D max pooling on the GPU, with the CPU's rules (cpu/maxpool.h: padding is -inf, NaN wins, the
// first maximum in scan order wins ties). The backward is a gather: each input recomputes the
// argmax of every window covering it and sums gy where it is that argmax (no index tensor, no
// atomics, windows visited in the CPU's order).
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

__device__ __forceinline__ int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }
__device__ __forceinline__ int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

template <typename T>
__device__ int64_t window_argmax(const T* plane, const MpfPool2d& g, int64_t oy, int64_t ox) {
  const int64_t y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
  const int64_t ya = imax(0, y0), yb = imin(g.h, y0 + g.kh);
  const int64_t xa = imax(0, x0), xb = imin(g.w, x0 + g.kw);
  if (ya >= yb || xa >= xb) return -1;
  int64_t best = ya * g.w + xa;
  T bv = T(-INFINITY);
  for (int64_t y = ya; y < yb; ++y)
    for (int64_t x = xa; x < xb; ++x) {
      const T v = plane[y * g.w + x];
      if (!(v <= bv)) {
        best = y * g.w + x;
        bv = v;
        if (v != v) return best;
      }
    }
  return best;
}

template <typename T>
__global__ void max_pool_forward_kernel(const T* __restrict__ x, T* __restrict__ y, MpfPool2d g, int64_t total) {
  MPF_GRID_LOOP(e, total) {
    int64_t t, ox, pc, oy;
    divmod(e, g.ow, t, ox);
    divmod(t, g.oh, pc, oy);
    const T* xp = x + pc * g.h * g.w;
    const int64_t at = window_argmax(xp, g, oy, ox);
    y[e] = at < 0 ? T(-INFINITY) : xp[at];
  }
}

__device__ __forceinline__ void covering(int64_t i, int64_t k, int64_t s, int64_t p, int64_t o, int64_t& lo, int64_t& hi) {
  const int64_t a = i + p - k + 1;
  lo = a <= 0 ? 0 : (a + s - 1) / s;
  hi = imin(o - 1, (i + p) / s);
}

template <typename T>
__global__ void max_pool_backward_kernel(const T* __restrict__ x, const T* __restrict__ gy, T* __restrict__ gx, MpfPool2d g,
                                         int64_t total) {
  MPF_GRID_LOOP(e, total) {
    int64_t t, ix, pc, iy;
    divmod(e, g.w, t, ix);
    divmod(t, g.h, pc, iy);
    const T* xp = x + pc * g.h * g.w;
    const T* gp = gy + pc * g.oh * g.ow;
    const int64_t self = iy * g.w + ix;
    int64_t oy0, oy1, ox0, ox1;
    covering(iy, g.kh, g.sh, g.ph, g.oh, oy0, oy1);
    covering(ix, g.kw, g.sw, g.pw, g.ow, ox0, ox1);
    T s = 0;
    for (int64_t oy = oy0; oy <= oy1; ++oy)
      for (int64_t ox = ox0; ox <= ox1; ++ox)
        if (window_argmax(xp, g, oy, ox) == self) s += gp[oy * g.ow + ox];
    gx[e] = s;
  }
}

}  // namespace

MpfErr max_pool2d_forward(int32_t dt, const void* x, void* y, const MpfPool2d* g) {
  return guard([&] {
    const int64_t total = g->n * g->c * g->oh * g->ow;
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(total), kThreads, max_pool_forward_kernel<T>)(static_cast<const T*>(x), static_cast<T*>(y), *g,
                                                                               total);
    });
  });
}

MpfErr max_pool2d_backward(int32_t dt, const void* x, const void* gy, void* gx, const MpfPool2d* g) {
  return guard([&] {
    const int64_t total = g->n * g->c * g->h * g->w;
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(total), kThreads, max_pool_backward_kernel<T>)(
          static_cast<const T*>(x), static_cast<const T*>(gy), static_cast<T*>(gx), *g, total);
    });
  });
}

}  // namespace mpf::cuda
