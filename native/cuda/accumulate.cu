// In-place accumulation y += alpha·x on the GPU (gradient accumulation; cpu/accumulate.h).
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

template <typename T>
__global__ void axpy_kernel(T* __restrict__ y, const T* __restrict__ x, T alpha, int64_t n) {
  MPF_GRID_LOOP(i, n) y[i] += alpha * x[i];
}

}  // namespace

MpfErr axpy(int32_t dt, void* y, const void* x, double alpha, int64_t n) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(n), kThreads, axpy_kernel<T>)(static_cast<T*>(y), static_cast<const T*>(x), T(alpha), n);
    });
  });
}

}  // namespace mpf::cuda
