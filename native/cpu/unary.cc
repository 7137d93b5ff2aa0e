#include "cpu/unary.h"

#include "common/thread_pool.h"

namespace mpf::cpu {

constexpr int64_t kGrain = 1 << 14;  // elements per task: large enough to amortise a wake-up

template <typename T>
void unary_forward(UnaryOp op, const T* x, T* y, int64_t n, double p0, double p1) {
  const T a = T(p0), b = T(p1);
  dispatch_unary(op, [&](auto tag) {
    constexpr UnaryOp OP = decltype(tag)::value;
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) y[i] = Unary<OP, T>::fwd(x[i], a, b);
    });
  });
}

template <typename T>
void unary_backward(UnaryOp op, const T* x, const T* y, const T* gy, T* gx, int64_t n, double p0, double p1) {
  const T a = T(p0), b = T(p1);
  dispatch_unary(op, [&](auto tag) {
    constexpr UnaryOp OP = decltype(tag)::value;
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) gx[i] = Unary<OP, T>::bwd(x ? x[i] : T(0), y ? y[i] : T(0), gy[i], a, b);
    });
  });
}

template void unary_forward<float>(UnaryOp, const float*, float*, int64_t, double, double);
template void unary_forward<double>(UnaryOp, const double*, double*, int64_t, double, double);
template void unary_backward<float>(UnaryOp, const float*, const float*, const float*, float*, int64_t, double, double);
template void unary_backward<double>(UnaryOp, const double*, const double*, const double*, double*, int64_t, double, double);

}  // namespace mpf::cpu
