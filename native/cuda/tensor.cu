// Tensor creation on the GPU: constant fills, dtype casts and the counter-based random fills
// (common/random.h, the same functions the CPU runs, so both devices draw identical numbers).
#include "common/random.h"
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

template <typename T>
__global__ void fill_kernel(T* y, int64_t n, T v) {
  MPF_GRID_LOOP(i, n) y[i] = v;
}

template <typename S, typename D>
__global__ void cast_kernel(const S* x, D* y, int64_t n) {
  MPF_GRID_LOOP(i, n) y[i] = D(x[i]);
}

template <typename T>
__global__ void rand_kernel(T* y, int64_t n, uint64_t seed, uint64_t offset, double p, double q, bool normal) {
  MPF_GRID_LOOP(i, n) {
    const uint64_t c = offset + uint64_t(i);
    y[i] = T(normal ? p + q * normal01(seed, c) : p + (q - p) * uniform01(seed, c));
  }
}

}  // namespace

MpfErr fill(int32_t dt, void* y, int64_t n, double v) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(n), kThreads, fill_kernel<T>)(static_cast<T*>(y), n, T(v));
    });
  });
}

MpfErr cast(int32_t src_dt, const void* x, int32_t dst_dt, void* y, int64_t n) {
  return guard([&] {
    by_dtype(src_dt, [&](auto s) {
      by_dtype(dst_dt, [&](auto d) {
        using S = decltype(s);
        using D = decltype(d);
        MPF_LAUNCH(blocks_for(n), kThreads, cast_kernel<S, D>)(static_cast<const S*>(x), static_cast<D*>(y), n);
      });
    });
  });
}

MpfErr rand(int32_t dt, void* y, int64_t n, uint64_t seed, uint64_t offset, double p, double q, int32_t normal) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(n), kThreads, rand_kernel<T>)(static_cast<T*>(y), n, seed, offset, p, q, normal != 0);
    });
  });
}

}  // namespace mpf::cuda
