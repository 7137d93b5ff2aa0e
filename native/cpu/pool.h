// 2-D average pooling on CPU (PyTorch's avg_pool2d with count_include_pad = true, ceil_mode =
// false: every window divides by kh * kw, padding counted as zeros).
#pragma once
#include <cstdint>

namespace mpf::cpu {

struct Pool2dGeometry {
  int64_t n, c, h, w;  // input
  int64_t kh, kw, sh, sw, ph, pw;
  int64_t oh, ow;      // output
};

template <typename T>
void avg_pool2d_forward(const T* x, T* y, const Pool2dGeometry& g);
template <typename T>
void avg_pool2d_backward(const T* gy, T* gx, const Pool2dGeometry& g);

}  // namespace mpf::cpu
