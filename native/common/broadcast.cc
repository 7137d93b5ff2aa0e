#include "common/broadcast.h"

#include "common/errors.h"

namespace mpf {

Shape broadcast_shapes(const char* op, const char* name_a, const Shape& a, const char* name_b, const Shape& b) {
  const size_t r = a.size() > b.size() ? a.size() : b.size();
  Shape out(r);
  const Shape aa = align_shape(a, r), bb = align_shape(b, r);
  for (size_t d = 0; d < r; ++d) {
    if (aa[d] == bb[d] || bb[d] == 1) out[d] = aa[d];
    else if (aa[d] == 1) out[d] = bb[d];
    else
      throw_range(op, ": '", name_a, "' ", shape_str(a), " and '", name_b, "' ", shape_str(b),
                  " do not broadcast (dim ", int64_t(d) - int64_t(r), ": ", aa[d], " vs ", bb[d], ")");
  }
  return out;
}

Shape align_shape(const Shape& s, size_t rank) {
  Shape out(rank - s.size(), 1);
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

void broadcast_strides(const Shape& out, const Shape& s, int64_t* strides) {
  const size_t r = out.size();
  const Shape ss = align_shape(s, r);
  int64_t st = 1;
  for (size_t d = r; d-- > 0;) {
    strides[d] = (ss[d] == 1 && out[d] != 1) ? 0 : st;
    st *= ss[d];
  }
}

}  // namespace mpf
