// The L1 loss on the GPU: the sum of |p - t| through CUB's DeviceReduce (accumulated in double, as
// on the CPU), and the gradient from common/binary_math.h's l1_grad (the CPU's formula).
#include <cub/device/device_reduce.cuh>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>

#include "common/binary_math.h"
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

template <typename T>
struct AbsDiff {
  const T* p;
  const T* t;
  __device__ double operator()(int64_t i) const {
    const T d = p[i] - t[i];
    return double(d < T(0) ? -d : d);
  }
};

template <typename T>
__global__ void store_scaled_kernel(const double* s, T* y, double scale) {
  y[0] = T(s[0] * scale);
}

template <typename T>
__global__ void l1_backward_kernel(const T* __restrict__ p, const T* __restrict__ t, const T* __restrict__ gy, double scale,
                                   T* __restrict__ gp, T* __restrict__ gt, int64_t n) {
  const T s = T(double(gy[0]) * scale);
  MPF_GRID_LOOP(i, n) {
    const T g = l1_grad(p[i] - t[i], s);
    if (gp) gp[i] = g;
    if (gt) gt[i] = -g;
  }
}

}  // namespace

MpfErr l1_loss(int32_t dt, const void* p, const void* t, int64_t n, void* y, double scale) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      auto in = thrust::make_transform_iterator(thrust::counting_iterator<int64_t>(0),
                                                AbsDiff<T>{static_cast<const T*>(p), static_cast<const T*>(t)});
      size_t temp_bytes = 0;
      check(cub::DeviceReduce::Sum(nullptr, temp_bytes, in, static_cast<double*>(nullptr), n, stream()), "cub::DeviceReduce");
      Scratch temp(temp_bytes + sizeof(double));
      double* sum = temp.get<double>();
      check(cub::DeviceReduce::Sum(temp.get<char>() + sizeof(double), temp_bytes, in, sum, n, stream()), "cub::DeviceReduce");
      MPF_LAUNCH(1, 1, store_scaled_kernel<T>)(sum, static_cast<T*>(y), scale);
    });
  });
}

MpfErr l1_backward(int32_t dt, const void* p, const void* t, const void* gy, double scale, void* gp, void* gt, int64_t n) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(n), kThreads, l1_backward_kernel<T>)(static_cast<const T*>(p), static_cast<const T*>(t),
                                                                      static_cast<const T*>(gy), scale, static_cast<T*>(gp),
                                                                      static_cast<T*>(gt), n);
    });
  });
}

}  // namespace mpf::cuda
