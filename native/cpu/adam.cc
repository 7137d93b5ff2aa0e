#include "cpu/adam.h"

#include <cmath>

#include "common/adam_math.h"
#include "common/thread_pool.h"

namespace mpf::cpu {

template <typename T>
void adam_update(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, int64_t n, const AdamHyper& h) {
  // The scalars as PyTorch computes them: in double (Python floats), then used by T-typed ops.
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
  parallel_for(n, 1 << 13, [&](int64_t lo, int64_t hi) {
    T* __restrict__ p = param;
    const T* __restrict__ g = grad;
    T* __restrict__ m = exp_avg;
    T* __restrict__ v = exp_avg_sq;
    for (int64_t i = lo; i < hi; ++i) adam_step(p[i], g[i], m[i], v[i], c);
  });
}

template void adam_update<float>(float*, const float*, float*, float*, int64_t, const AdamHyper&);
template void adam_update<double>(double*, const double*, double*, double*, int64_t, const AdamHyper&);

}  // namespace mpf::cpu
