// Elementwise binary ops with broadcasting on the GPU. The arithmetic is common/binary_math.h (the
// CPU kernels' code); the addon builds the coalesced broadcast plan (common/broadcast.h) and the
// kernels walk it. A broadcast input's gradient is written here at the output's shape and summed
// to the input's shape by the reduction (reduce.cu), as the binding arranges.
#include "common/binary_math.h"
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

template <BinaryOp OP, typename T>
__global__ void binary_forward_kernel(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ y, MpfStrided p,
                                      int64_t n) {
  MPF_GRID_LOOP(i, n) {
    int64_t off[2];
    plan_offsets<2>(p, i, off);
    y[i] = Binary<OP, T>::fwd(a[off[0]], b[off[1]]);
  }
}

template <BinaryOp OP, int WHICH, typename T>
__global__ void binary_grad_kernel(const T* __restrict__ a, const T* __restrict__ b, const T* __restrict__ gy,
                                   T* __restrict__ g, MpfStrided p, int64_t n) {
  MPF_GRID_LOOP(i, n) {
    int64_t off[2];
    plan_offsets<2>(p, i, off);
    if constexpr (WHICH == 0) g[i] = Binary<OP, T>::da(gy[i], a[off[0]], b[off[1]]);
    else g[i] = Binary<OP, T>::db(gy[i], a[off[0]], b[off[1]]);
  }
}

template <BinaryOp OP, typename T>
__global__ void binary_both_kernel(const T* __restrict__ a, const T* __restrict__ b, const T* __restrict__ gy,
                                   T* __restrict__ ga, T* __restrict__ gb, int64_t n) {
  MPF_GRID_LOOP(i, n) {
    ga[i] = Binary<OP, T>::da(gy[i], a[i], b[i]);
    gb[i] = Binary<OP, T>::db(gy[i], a[i], b[i]);
  }
}

void check_op(int32_t op) {
  if (op < 0 || op >= int32_t(BinaryOp::Count)) throw std::invalid_argument(str("unknown binary op id ", op));
}

}  // namespace

MpfErr binary_forward(int32_t op, int32_t dt, const void* a, const void* b, void* y, const MpfStrided* plan) {
  return guard([&] {
    check_op(op);
    const int64_t n = plan_numel(*plan);
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      dispatch_binary(BinaryOp(op), [&](auto op_tag) {
        constexpr BinaryOp OP = decltype(op_tag)::value;
        MPF_LAUNCH(blocks_for(n), kThreads, binary_forward_kernel<OP, T>)(
            static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(y), *plan, n);
      });
    });
  });
}

MpfErr binary_grad(int32_t op, int32_t which, int32_t dt, const void* a, const void* b, const void* gy, void* g,
                   const MpfStrided* plan) {
  return guard([&] {
    check_op(op);
    const int64_t n = plan_numel(*plan);
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      dispatch_binary(BinaryOp(op), [&](auto op_tag) {
        constexpr BinaryOp OP = decltype(op_tag)::value;
        auto args = [&](auto kernel) {
          MPF_LAUNCH(blocks_for(n), kThreads, kernel)(static_cast<const T*>(a), static_cast<const T*>(b),
                                                           static_cast<const T*>(gy), static_cast<T*>(g), *plan, n);
        };
        if (which == 0) args(binary_grad_kernel<OP, 0, T>);
        else args(binary_grad_kernel<OP, 1, T>);
      });
    });
  });
}

MpfErr binary_backward_both(int32_t op, int32_t dt, const void* a, const void* b, const void* gy, void* ga, void* gb,
                            int64_t n) {
  return guard([&] {
    check_op(op);
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      dispatch_binary(BinaryOp(op), [&](auto op_tag) {
        constexpr BinaryOp OP = decltype(op_tag)::value;
        MPF_LAUNCH(blocks_for(n), kThreads, binary_both_kernel<OP, T>)(
            static_cast<const T*>(a), static_cast<const T*>(b), static_cast<const T*>(gy), static_cast<T*>(ga),
            static_cast<T*>(gb), n);
      });
    });
  });
}

}  // namespace mpf::cuda
