// 2-D max pooling on CPU, PyTorch's max_pool2d (dilation 1, ceil_mode false): padding counts as
// -infinity, NaN propagates, and on ties the first maximum in scan order wins. The backward
// recomputes each window's argmax from x (no index tensor to keep) and adds gy there.
#pragma once
#include <cstdint>

namespace mpf::cpu {

struct MaxPool2dGeometry {
  int64_t n, c, h, w;  // input
  int64_t kh, kw, sh, sw, ph, pw;
  int64_t oh, ow;  // output
};

template <typename T>
void max_pool2d_forward(const T* x, T* y, const MaxPool2dGeometry& g);
template <typename T>
void max_pool2d_backward(const T* x, const T* gy, T* gx, const MaxPool2dGeometry& g);

}  // namespace mpf::cpu
