#include "cpu/loss.h"

#include "common/binary_math.h"
#include "cpu/strided_loops.h"

namespace mpf::cpu {

template <typename T>
double l1_sum(const T* pred, const T* target, int64_t n) {
  return parallel_sum(n, [&](int64_t lo, int64_t hi) {
    const T* __restrict__ p = pred + lo;
    const T* __restrict__ t = target + lo;
    return run_sum<T>(hi - lo, [&](int64_t i) {
      const T d = p[i] - t[i];
      return d < T(0) ? -d : d;
    });
  });
}

template <typename T>
void l1_backward(const T* pred, const T* target, T scale, T* gp, T* gt, int64_t n) {
  parallel_for(n, kEltGrain, [&](int64_t lo, int64_t hi) {
    const T* __restrict__ p = pred;
    const T* __restrict__ t = target;
    T* __restrict__ op = gp;
    T* __restrict__ ot = gt;
    if (op && ot) {
      for (int64_t i = lo; i < hi; ++i) {
        const T g = l1_grad(p[i] - t[i], scale);
        op[i] = g;
        ot[i] = -g;
      }
    } else if (op) {
      for (int64_t i = lo; i < hi; ++i) op[i] = l1_grad(p[i] - t[i], scale);
    } else if (ot) {
      for (int64_t i = lo; i < hi; ++i) ot[i] = l1_grad(t[i] - p[i], scale);
    }
  });
}

template double l1_sum<float>(const float*, const float*, int64_t);
template double l1_sum<double>(const double*, const double*, int64_t);
template void l1_backward<float>(const float*, const float*, float, float*, float*, int64_t);
template void l1_backward<double>(const double*, const double*, double, double*, double*, int64_t);

}  // namespace mpf::cpu
