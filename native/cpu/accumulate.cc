#include "cpu/accumulate.h"

#include <algorithm>

#include "common/thread_pool.h"

namespace mpf::cpu {

template <typename T>
void axpy_inplace(T* y, const T* x, T alpha, int64_t n) {
  parallel_for(n, 1 << 14, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] += alpha * x[i];
  });
}

template <typename T>
void scale_add_inplace(T* y, const T* s, const T* x, int64_t planes, int64_t hw) {
  // Whole planes per task (s is per plane), enough elements per task to amortise the hand-off.
  const int64_t grain = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, hw));
  parallel_for(planes, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      T* yp = y + p * hw;
      const T* xp = x + p * hw;
      const T sp = s[p];
      for (int64_t i = 0; i < hw; ++i) yp[i] = yp[i] * sp + xp[i];
    }
  });
}

template void axpy_inplace<float>(float*, const float*, float, int64_t);
template void axpy_inplace<double>(double*, const double*, double, int64_t);
template void scale_add_inplace<float>(float*, const float*, const float*, int64_t, int64_t);
template void scale_add_inplace<double>(double*, const double*, const double*, int64_t, int64_t);

}  // namespace mpf::cpu
