// Iteration plans handed to the CUDA plugin: the CPU's coalesced broadcast plans
// (common/broadcast.h) copied into the ABI's plain structs, and the plan of a sum over dims.
#pragma once
#include "common/broadcast.h"
#include "cuda/api.h"

namespace mpf {

template <int N>
MpfStrided to_cuda_plan(const StridedPlan<N>& p) {
  static_assert(N <= 4, "MpfStrided holds at most 4 operands");
  MpfStrided s{};
  s.rank = p.rank;
  for (int d = 0; d < p.rank; ++d) {
    s.size[d] = p.size[d];
    for (int k = 0; k < N; ++k) s.stride[k][d] = p.stride[k][d];
  }
  return s;
}

// The sum of x (contiguous, shape `from`) down to shape `to` (right-aligned; each dim equal to
// from's or 1): kept dims walk the output, the others are summed. Neighbouring dims of one group
// merge when contiguous.
inline MpfReducePlan cuda_reduce_plan(const Shape& from, const Shape& to) {
  const size_t r = from.size();
  const Shape t = align_shape(to, r);
  int64_t stride[kMaxRank];
  int64_t st = 1;
  for (size_t d = r; d-- > 0;) {
    stride[d] = st;
    st *= from[d];
  }
  MpfReducePlan p{};
  auto push = [](int32_t& rank, int64_t* size, int64_t* strides, int64_t n, int64_t s) {
    if (rank > 0 && strides[rank - 1] == s * n) {  // the previous dim of the group continues into this one
      size[rank - 1] *= n;
      strides[rank - 1] = s;
      return;
    }
    size[rank] = n;
    strides[rank] = s;
    ++rank;
  };
  for (size_t d = 0; d < r; ++d) {
    if (from[d] == 1) continue;
    if (t[d] == 1) push(p.red_rank, p.red_size, p.red_stride, from[d], stride[d]);
    else push(p.out_rank, p.out_size, p.out_stride, from[d], stride[d]);
  }
  return p;
}

}  // namespace mpf
