// Shape ops that move data on the GPU. cat and split are strided 2-D copies (cudaMemcpy2DAsync,
// queued by the addon through copy_2d); pixel (un)shuffle is this kernel.
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

// One thread per element of the large (n, c, h·r, w·r) layout; the small one is
// (n, c·r·r, h, w) with y[n][c][h·r+i][w·r+j] = x[n][c·r·r + i·r + j][h][w].
template <typename T, bool INVERSE>
__global__ void pixel_shuffle_kernel(const T* __restrict__ in, T* __restrict__ out, int64_t c, int64_t h, int64_t w,
                                     int64_t r, int64_t total) {
  const int64_t W = w * r, H = h * r;
  MPF_GRID_LOOP(e, total) {
    int64_t t, wj, hi, nc;
    divmod(e, W, t, wj);
    divmod(t, H, nc, hi);
    int64_t hh, i, ww, j, n, ch;
    divmod(hi, r, hh, i);
    divmod(wj, r, ww, j);
    divmod(nc, c, n, ch);
    const int64_t s = (((n * c + ch) * r * r + i * r + j) * h + hh) * w + ww;
    if (INVERSE) out[s] = in[e];
    else out[e] = in[s];
  }
}

}  // namespace

MpfErr pixel_shuffle(int32_t dt, const void* x, void* y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t r,
                     int32_t inverse) {
  return guard([&] {
    const int64_t total = n * c * h * w * r * r;
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      const T* in = static_cast<const T*>(x);
      T* out = static_cast<T*>(y);
      if (inverse) MPF_LAUNCH(blocks_for(total), kThreads, pixel_shuffle_kernel<T, true>)(in, out, c, h, w, r, total);
      else MPF_LAUNCH(blocks_for(total), kThreads, pixel_shuffle_kernel<T, false>)(in, out, c, h, w, r, total);
    });
  });
}

}  // namespace mpf::cuda
