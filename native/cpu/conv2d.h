// 2-D convolution on CPU (NCHW, weight (out, in, kh, kw), zero padding, stride, dilation), forward
// and the three backward passes side by side. The input may be a list of tensors that together
// form the channels (conv over concat(a, b)); they are read in place and their gradients are
// written per part, so the concatenation never exists in memory.
//
// float runs through one dispatch per pass (conv2d_algo) over fast algorithms: today an implicit
// GEMM (im2col panels packed straight from the input parts into the SGEMM driver, gemm.h); the
// dispatch is where Winograd / direct kernels slot in per shape. double runs plain direct loops:
// the reference the finite-difference checks and the float paths are compared against.
#pragma once
#include <cstdint>
#include <vector>

namespace mpf::cpu {

struct Conv2dShape {
  int64_t batch = 1;
  std::vector<int64_t> in_channels;  // per input part; their sum is the weight's in-channels
  int64_t in_h = 1, in_w = 1;
  int64_t out_channels = 1;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;

  int64_t total_in_channels() const;
  // floor((in + 2 pad - dilation (k - 1) - 1) / stride) + 1; may be < 1 for invalid shapes.
  int64_t out_h() const;
  int64_t out_w() const;
  // Multiply-adds of the forward pass (each backward pass costs the same).
  double macs() const;
};

// The algorithm a pass uses for a shape (float; double always runs Direct).
enum class Conv2dPass { Forward, BackwardData, BackwardWeight };
enum class Conv2dAlgo { Direct, ImplicitGemm, GemmCol2im };
Conv2dAlgo conv2d_algo(const Conv2dShape& s, Conv2dPass pass);
const char* conv2d_algo_name(Conv2dAlgo a);

// y (batch, out, oh, ow) = conv(concat(xs), w) + b. xs[j]: (batch, in_channels[j], in_h, in_w);
// b may be null.
template <typename T>
void conv2d_forward(const Conv2dShape& s, const std::vector<const T*>& xs, const T* w, const T* b, T* y);

// gxs[j] = d loss / d xs[j] given gy; parts whose pointer is null are skipped.
template <typename T>
void conv2d_backward_data(const Conv2dShape& s, const T* w, const T* gy, const std::vector<T*>& gxs);

// gw (out, in, kh, kw) = d loss / d w.
template <typename T>
void conv2d_backward_weight(const Conv2dShape& s, const std::vector<const T*>& xs, const T* gy, T* gw);

// gb (out) = sum of gy over batch and pixels.
template <typename T>
void conv2d_backward_bias(const Conv2dShape& s, const T* gy, T* gb);

// The float64-style direct loops, exposed for any dtype so that checks can run them on float too.
template <typename T>
void conv2d_forward_direct(const Conv2dShape& s, const std::vector<const T*>& xs, const T* w, const T* b, T* y);
template <typename T>
void conv2d_backward_data_direct(const Conv2dShape& s, const T* w, const T* gy, const std::vector<T*>& gxs);
template <typename T>
void conv2d_backward_weight_direct(const Conv2dShape& s, const std::vector<const T*>& xs, const T* gy, T* gw);

}  // namespace mpf::cpu
