// The Adam / AdamW update on the GPU, in place: the per-element step is common/adam_math.h's
// adam_step (the CPU kernel's code); the scalars are computed in double exactly as cpu/adam.cc does.
#include <cmath>

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

// As cpu::adam_update: bias corrections and step size in double (PyTorch's Python floats).
template <typename T>
AdamScalars<T> scalars(const MpfAdam& h) {
  const double bc1 = 1 - std::pow(h.beta1, double(h.step));
  const double bc2 = 1 - std::pow(h.beta2, double(h.step));
  AdamScalars<T> c;
  c.beta1 = T(h.beta1);
  c.one_minus_beta1 = T(1 - h.beta1);
  c.beta2 = T(h.beta2);
  c.one_minus_beta2 = T(1 - h.beta2);
  c.eps = T(h.eps);
  c.decay = h.decoupled ? T(0) : T(h.weight_decay);
  c.shrink = h.decoupled ? T(1 - h.lr * h.weight_decay) : T(1);
  c.neg_step_size = T(-(h.lr / bc1));
  c.bc2_sqrt = T(std::sqrt(bc2));
  return c;
}

}  // namespace

MpfErr adam_update(int32_t dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq, int64_t n, const MpfAdam* h) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(n), kThreads, adam_kernel<T>)(static_cast<T*>(param), static_cast<const T*>(grad),
                                                               static_cast<T*>(exp_avg), static_cast<T*>(exp_avg_sq), n,
                                                               scalars<T>(*h));
    });
  });
}

}  // namespace mpf::cuda
