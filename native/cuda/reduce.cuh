// Sums over dims for other kernel files of the plugin (conv bias gradients, linear's bias).
#pragma once
#include "cuda/api.h"

namespace mpf::cuda {

// y = scale * x summed as the plan says (see MpfReducePlan); queued on the stream.
template <typename T>
void sum_reduce_t(const T* x, T* y, const MpfReducePlan& p, double scale);

// The plan of a (outer, mid, inner) tensor summed over outer and inner, one output per mid index:
// a bias gradient of NCHW (outer = N, mid = C, inner = H·W) or of rows × out (inner = 1).
inline MpfReducePlan bias_grad_plan(int64_t outer, int64_t mid, int64_t inner) {
  MpfReducePlan p{};
  p.out_rank = 1;
  p.out_size[0] = mid;
  p.out_stride[0] = inner;
  int r = 0;
  if (outer > 1) {
    p.red_size[r] = outer;
    p.red_stride[r++] = mid * inner;
  }
  if (inner > 1) {
    p.red_size[r] = inner;
    p.red_stride[r++] = 1;
  }
  p.red_rank = r;
  return p;
}

}  // namespace mpf::cuda
