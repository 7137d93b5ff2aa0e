#include "cpu/accumulate.h"

#include "common/thread_pool.h"

namespace mpf::cpu {

template <typename T>
void axpy_inplace(T* y, const T* x, T alpha, int64_t n) {
  parallel_for(n, 1 << 14, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] += alpha * x[i];
  });
}

template void axpy_inplace<float>(float*, const float*, float, int64_t);
template void axpy_inplace<double>(double*, const double*, double, int64_t);

}  // namespace mpf::cpu
