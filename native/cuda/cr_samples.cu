// The contrastive-regularisation sample generator on the GPU (cpu/cr_samples.h): one thread per
// output pixel, D = the sample's kernel over the source image with reflect-101 borders (zero taps
// skipped, taps in the CPU's order), D = x within `keep` pixels of an edge, y = D + f·(x − D), plus
// σ·N(0, 1) from the counter-based generator (the CPU's numbers), clipped to [0, 1] on request.
#include "common/random.h"
#include "common/reflect.h"
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

template <typename T>
__global__ void cr_samples_kernel(const T* __restrict__ x, const T* __restrict__ k, T* __restrict__ y, int64_t c, int64_t h,
                                  int64_t w, int64_t kh, int64_t kw, const int64_t* __restrict__ source,
                                  const int64_t* __restrict__ keep, const double* __restrict__ factor,
                                  const double* __restrict__ sigma, uint64_t seed, uint64_t offset, bool clip, int64_t total) {
  const int64_t pa = kh / 2, pb = kw / 2;
  MPF_GRID_LOOP(e, total) {
    int64_t t, j, plane, i;
    divmod(e, w, t, j);
    divmod(t, h, plane, i);
    const int64_t sample = plane / c, ch = plane % c;
    const T* src = x + (source[sample] * c + ch) * h * w;
    const int64_t kb = keep[sample];
    const T xv = src[i * w + j];
    T d = xv;
    if (!(i < kb || i >= h - kb || j < kb || j >= w - kb)) {
      const T* ker = k + sample * kh * kw;
      d = T(0);
      for (int64_t u = 0; u < kh; ++u) {
        const T* row = src + reflect_index(i + u - pa, h) * w;
        for (int64_t v = 0; v < kw; ++v) {
          const T kv = ker[u * kw + v];
          if (kv != T(0)) d += kv * row[reflect_index(j + v - pb, w)];
        }
      }
    }
    T out = d + T(factor[sample]) * (xv - d);
    const double sg = sigma[sample];
    if (sg > 0) out += T(sg * normal01(seed, offset + uint64_t(e)));
    if (clip) out = out < T(0) ? T(0) : (out > T(1) ? T(1) : out);
    y[e] = out;
  }
}

}  // namespace

MpfErr cr_samples(int32_t dt, const void* x, const void* k, void* y, int64_t c, int64_t h, int64_t w, int64_t m, int64_t kh,
                  int64_t kw, const int64_t* source, const int64_t* keep, const double* factor, const double* sigma,
                  uint64_t seed, uint64_t offset, int32_t clip) {
  return guard([&] {
    const size_t mi = size_t(m) * sizeof(int64_t), md = size_t(m) * sizeof(double);
    Scratch s = upload(source, mi), kp = upload(keep, mi), f = upload(factor, md), sg = upload(sigma, md);
    const int64_t total = m * c * h * w;
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(total), kThreads, cr_samples_kernel<T>)(
          static_cast<const T*>(x), static_cast<const T*>(k), static_cast<T*>(y), c, h, w, kh, kw, s.get<int64_t>(),
          kp.get<int64_t>(), f.get<double>(), sg.get<double>(), seed, offset, clip != 0, total);
    });
  });
}

}  // namespace mpf::cuda
