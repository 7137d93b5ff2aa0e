// The Adam / AdamW update on the GPU, in place: the per-element step is common/adam_math.h's
// adam_step (the CPU kernel's code); the scalars are adam_scalars, as in cpu/adam.cc.
#include "common/adam_math.h"
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

template <typename T>
__global__ void adam_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ m, T* __restrict__ v, int64_t n,
                            AdamScalars<T> c) {
  MPF_GRID_LOOP(i, n) {
    T pi = p[i], mi = m[i], vi = v[i];
    adam_step(pi, g[i], mi, vi, c);
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace

MpfErr adam_update(int32_t dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq, int64_t n, const MpfAdam* h) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(n), kThreads, adam_kernel<T>)(static_cast<T*>(param), static_cast<const T*>(grad),
                                                               static_cast<T*>(exp_avg), static_cast<T*>(exp_avg_sq), n,
                                                               adam_scalars<T>(*h));
    });
  });
}

}  // namespace mpf::cuda
