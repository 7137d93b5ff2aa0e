// Elementwise unary ops on the GPU: the kernels run the __host__ __device__ formulas of
// common/unary_math.h, the same code as the CPU kernels (cpu/unary.cc), so the CPU tests cover them.
#include "common/unary_math.h"
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

template <UnaryOp OP, typename T>
__global__ void unary_forward_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t n, T p0, T p1) {
  MPF_GRID_LOOP(i, n) y[i] = Unary<OP, T>::fwd(x[i], p0, p1);
}

template <UnaryOp OP, typename T>
__global__ void unary_backward_kernel(const T* __restrict__ x, const T* __restrict__ y, const T* __restrict__ gy,
                                      T* __restrict__ gx, int64_t n, T p0, T p1) {
  MPF_GRID_LOOP(i, n) gx[i] = Unary<OP, T>::bwd(x ? x[i] : T(0), y ? y[i] : T(0), gy[i], p0, p1);
}

void check_op(int32_t op) {
  if (op < 0 || op >= int32_t(UnaryOp::Count)) throw std::invalid_argument(str("unknown unary op id ", op));
}

}  // namespace

MpfErr unary_forward(int32_t op, int32_t dt, const void* x, void* y, int64_t n, double p0, double p1) {
  return guard([&] {
    check_op(op);
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      dispatch_unary(UnaryOp(op), [&](auto op_tag) {
        constexpr UnaryOp OP = decltype(op_tag)::value;
        MPF_LAUNCH(blocks_for(n), kThreads, unary_forward_kernel<OP, T>)(
            static_cast<const T*>(x), static_cast<T*>(y), n, T(p0), T(p1));
      });
    });
  });
}

MpfErr unary_backward(int32_t op, int32_t dt, const void* x, const void* y, const void* gy, void* gx, int64_t n, double p0,
                      double p1) {
  return guard([&] {
    check_op(op);
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      dispatch_unary(UnaryOp(op), [&](auto op_tag) {
        constexpr UnaryOp OP = decltype(op_tag)::value;
        MPF_LAUNCH(blocks_for(n), kThreads, unary_backward_kernel<OP, T>)(
            static_cast<const T*>(x), static_cast<const T*>(y), static_cast<const T*>(gy), static_cast<T*>(gx), n, T(p0),
            T(p1));
      });
    });
  });
}

}  // namespace mpf::cuda
