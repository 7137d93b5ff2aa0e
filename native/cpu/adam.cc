#include "cpu/adam.h"

#include "common/adam_math.h"
#include "common/thread_pool.h"

namespace mpf::cpu {

template <typename T>
void adam_update(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, int64_t n, const AdamHyper& h) {
  const AdamScalars<T> c = adam_scalars<T>(h);
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
