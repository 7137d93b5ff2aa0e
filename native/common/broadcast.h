// numpy broadcasting and the strided iteration plans the elementwise, broadcast and reduction
// kernels share. A plan walks an output shape row-major with one element stride per operand (0
// where the operand is broadcast); building one drops size-1 dims and merges neighbouring dims that
// are contiguous for every operand, so (N,C,H,W) * (N,C,1,1) becomes a (N*C) x (H*W) walk whose
// inner loop reads one scalar of the second operand per row.
#pragma once
#include <cstdint>

#include "common/tensor.h"

namespace mpf {

// The broadcast shape of a and b (numpy rules: right-aligned, equal or 1). Throws RangeError
// naming op and both arguments when they do not broadcast.
Shape broadcast_shapes(const char* op, const char* name_a, const Shape& a, const char* name_b, const Shape& b);

// `s` right-aligned to rank `rank` with leading 1s (s.size() <= rank).
Shape align_shape(const Shape& s, size_t rank);

// Contiguous strides of `s` (right-aligned to `out`) with 0 where s is 1 and out is not.
void broadcast_strides(const Shape& out, const Shape& s, int64_t* strides);

template <int N>
struct StridedPlan {
  int rank = 0;
  int64_t size[kMaxRank] = {};
  int64_t stride[N][kMaxRank] = {};
  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < rank; ++d) n *= size[d];
    return n;
  }
  // Element stride of operand k along the innermost dim.
  int64_t inner(int k) const { return stride[k][rank - 1]; }
};

// Drop size-1 dims and merge dim d into d+1 where every operand is contiguous across them. The
// result keeps rank >= 1 (a single element is a 1-long walk).
template <int N>
void coalesce(StridedPlan<N>& p) {
  StridedPlan<N> q;
  int r = 0;
  for (int d = 0; d < p.rank; ++d) {
    if (p.size[d] == 1) continue;
    bool merge = r > 0;
    for (int k = 0; merge && k < N; ++k) merge = q.stride[k][r - 1] == p.stride[k][d] * p.size[d];
    if (merge) {  // q's last dim absorbs d: it takes d's stride and multiplies its size
      q.size[r - 1] *= p.size[d];
      for (int k = 0; k < N; ++k) q.stride[k][r - 1] = p.stride[k][d];
      continue;
    }
    q.size[r] = p.size[d];
    for (int k = 0; k < N; ++k) q.stride[k][r] = p.stride[k][d];
    ++r;
  }
  if (r == 0) {  // a single element: a 1-long walk
    q.size[0] = 1;
    r = 1;
  }
  q.rank = r;
  p = q;
}

// A plan over `out` for operands with the given shapes (each broadcast to out), coalesced.
template <int N>
StridedPlan<N> make_plan(const Shape& out, const Shape* const (&shapes)[N]) {
  StridedPlan<N> p;
  p.rank = int(out.size());
  for (int d = 0; d < p.rank; ++d) p.size[d] = out[size_t(d)];
  for (int k = 0; k < N; ++k) broadcast_strides(out, *shapes[k], p.stride[k]);
  coalesce(p);
  return p;
}

}  // namespace mpf
