#include "cpu/binary.h"

#include "cpu/strided_loops.h"

namespace mpf::cpu {
namespace {

// d(op)/d(input which) * g for one element.
template <BinaryOp OP, int WHICH, typename T>
inline T grad_of(T g, T a, T b) {
  if constexpr (WHICH == 0) return Binary<OP, T>::da(g, a, b);
  else return Binary<OP, T>::db(g, a, b);
}

// The reduction kernel for a broadcast input: operands (gy, a, b, target), inner strides SG, SA, SB.
template <BinaryOp OP, int WHICH, typename T, int SG, int SA, int SB>
struct GradSum {
  const T* gy;
  const T* a;
  const T* b;
  int64_t sg, sa, sb;  // runtime inner strides (used when the template stride is -1)
  double sum(const int64_t* off, int64_t len) const {
    const T* __restrict__ g = gy + off[0];
    const T* __restrict__ pa = a + off[1];
    const T* __restrict__ pb = b + off[2];
    return run_sum<T>(len, [&](int64_t i) { return grad_of<OP, WHICH, T>(at<SG>(g, i, sg), at<SA>(pa, i, sa), at<SB>(pb, i, sb)); });
  }
  void accumulate(const int64_t* off, int64_t len, T* __restrict__ acc) const {
    const T* __restrict__ g = gy + off[0];
    const T* __restrict__ pa = a + off[1];
    const T* __restrict__ pb = b + off[2];
    for (int64_t i = 0; i < len; ++i) acc[i] += grad_of<OP, WHICH, T>(at<SG>(g, i, sg), at<SA>(pa, i, sa), at<SB>(pb, i, sb));
  }
};

}  // namespace

template <typename T>
void binary_forward(BinaryOp op, const T* a, const Shape& a_shape, const T* b, const Shape& b_shape, T* y,
                    const Shape& y_shape) {
  const Shape* shapes[2] = {&a_shape, &b_shape};
  const StridedPlan<2> p = make_plan<2>(y_shape, shapes);
  const int64_t rsa = p.inner(0), rsb = p.inner(1);
  dispatch_binary(op, [&](auto op_tag) {
    constexpr BinaryOp OP = decltype(op_tag)::value;
    dispatch_stride(rsa, [&](auto sa_tag) {
      dispatch_stride(rsb, [&](auto sb_tag) {
        constexpr int SA = decltype(sa_tag)::value, SB = decltype(sb_tag)::value;
        for_each_run(p, kEltGrain, [&](int64_t i0, int64_t len, const int64_t* off) {
          T* __restrict__ out = y + i0;
          const T* __restrict__ pa = a + off[0];
          const T* __restrict__ pb = b + off[1];
          // Unrolled: the store port is the limit in cache, and a 1-vector loop's speed otherwise
          // depends on where its code lands relative to 64-byte lines.
#pragma GCC unroll 4
          for (int64_t i = 0; i < len; ++i) out[i] = Binary<OP, T>::fwd(at<SA>(pa, i, rsa), at<SB>(pb, i, rsb));
        });
      });
    });
  });
}

template <typename T>
void binary_backward(BinaryOp op, int which, const T* a, const Shape& a_shape, const T* b, const Shape& b_shape,
                     const T* gy, const Shape& y_shape, T* gin) {
  const Shape& in_shape = which == 0 ? a_shape : b_shape;
  const bool reduced = shape_numel(in_shape) != shape_numel(y_shape);
  dispatch_binary(op, [&](auto op_tag) {
    constexpr BinaryOp OP = decltype(op_tag)::value;
    auto body = [&](auto which_tag) {
      constexpr int W = decltype(which_tag)::value;
      if (!reduced) {
        // The input has the output's shape: an elementwise pass reading the other one broadcast.
        const Shape* shapes[3] = {&y_shape, &a_shape, &b_shape};
        const StridedPlan<3> p = make_plan<3>(y_shape, shapes);
        const int64_t rsa = p.inner(1), rsb = p.inner(2);
        dispatch_stride(rsa, [&](auto sa_tag) {
          dispatch_stride(rsb, [&](auto sb_tag) {
            constexpr int SA = decltype(sa_tag)::value, SB = decltype(sb_tag)::value;
            for_each_run(p, kEltGrain, [&](int64_t i0, int64_t len, const int64_t* off) {
              T* __restrict__ out = gin + i0;
              const T* __restrict__ g = gy + off[0];
              const T* __restrict__ pa = a + off[1];
              const T* __restrict__ pb = b + off[2];
#pragma GCC unroll 4
              for (int64_t i = 0; i < len; ++i) out[i] = grad_of<OP, W, T>(g[i], at<SA>(pa, i, rsa), at<SB>(pb, i, rsb));
            });
          });
        });
        return;
      }
      // The input was broadcast: sum the elementwise gradient over the broadcast dims.
      const Shape* shapes[4] = {&y_shape, &a_shape, &b_shape, &in_shape};
      const StridedPlan<4> p = make_plan<4>(y_shape, shapes);
      const int64_t rsg = p.inner(0), rsa = p.inner(1), rsb = p.inner(2);
      dispatch_stride(rsa, [&](auto sa_tag) {
        dispatch_stride(rsb, [&](auto sb_tag) {
          constexpr int SA = decltype(sa_tag)::value, SB = decltype(sb_tag)::value;
          // gy is contiguous over the output, so its inner stride is 1 after coalescing.
          const GradSum<OP, W, T, 1, SA, SB> k{gy, a, b, rsg, rsa, rsb};
          reduce_runs(p, gin, 1.0, k);
        });
      });
    };
    if (which == 0) body(std::integral_constant<int, 0>{});
    else body(std::integral_constant<int, 1>{});
  });
}

template <typename T>
void binary_backward_both(BinaryOp op, const T* a, const T* b, const T* gy, T* ga, T* gb, int64_t n) {
  dispatch_binary(op, [&](auto op_tag) {
    constexpr BinaryOp OP = decltype(op_tag)::value;
    parallel_for(n, kEltGrain, [&](int64_t lo, int64_t hi) {
      const T* __restrict__ pa = a;
      const T* __restrict__ pb = b;
      const T* __restrict__ g = gy;
      T* __restrict__ oa = ga;
      T* __restrict__ ob = gb;
#pragma GCC unroll 4
      for (int64_t i = lo; i < hi; ++i) {
        oa[i] = Binary<OP, T>::da(g[i], pa[i], pb[i]);
        ob[i] = Binary<OP, T>::db(g[i], pa[i], pb[i]);
      }
    });
  });
}

#define MPF_INSTANTIATE(T)                                                                                       \
  template void binary_forward<T>(BinaryOp, const T*, const Shape&, const T*, const Shape&, T*, const Shape&); \
  template void binary_backward<T>(BinaryOp, int, const T*, const Shape&, const T*, const Shape&, const T*,    \
                                   const Shape&, T*);                                                           \
  template void binary_backward_both<T>(BinaryOp, const T*, const T*, const T*, T*, T*, int64_t);
MPF_INSTANTIATE(float)
MPF_INSTANTIATE(double)
#undef MPF_INSTANTIATE

}  // namespace mpf::cpu
