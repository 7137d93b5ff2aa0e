// 2-D convolution on CPU (NCHW, weight (out, in, kh, kw), zero padding, stride, dilation), forward
// and the three backward passes side by side. The input may be a list of tensors that together
// form the channels (conv over concat(a, b)); they are read in place and their gradients are
// written per part, so the concatenation never exists in memory.
//
// float runs through one dispatch per pass (conv2d_algo) over fast algorithms: an implicit GEMM
// (im2col panels packed straight from the input parts into the SGEMM driver, gemm.h) for any
// shape, Winograd for 3x3 stride-1 convolutions. double runs plain direct loops by default: the
// reference the finite-difference checks and the float paths are compared against.
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

// The algorithm a pass uses for a shape and dtype: conv2d_algo is the one place that decides.
//   Direct        plain loops (float64's default: the reference)
//   ImplicitGemm  im2col panels packed straight into the SGEMM driver (any shape)
//   GemmCol2im    backward data of strided convolutions: W^T . gy, then col2im
//   Winograd4/2   F(4x4, 3x3) / F(2x2, 3x3) for 3x3, stride 1, dilation 1 (conv2d_winograd.cc)
//   Winograd6     F(6x6, 3x3): the 'fp32' forward of inputs of 16 MB and more where F(8x8) does not
//                 take it, or where forced ('winograd6')
//   Winograd8     F(8x8, 3x3): the 'fp32' forward of planes 128 columns wide and more (f8_pays in
//                 conv2d.cc), or where forced ('winograd8')
//   Winograd*Bf16 the same with bf16 GEMMs: forward only, under the bf16 inference precision
//                 (inference_precision.h)
//   Lattice       a dilated 3x3 forward (stride 1, padding = dilation) as undilated convolutions on
//                 its sub-lattices, which then take Winograd: the forward of the inference precisions
//                 ('fp32', 'bf16'), or of every dilated convolution where forced ('lattice'; conv2d_lattice.cc)
enum class Conv2dPass { Forward, BackwardData, BackwardWeight };
enum class Conv2dAlgo { Direct, ImplicitGemm, GemmCol2im, Winograd4, Winograd2, Winograd6, Winograd8, Winograd4Bf16, Winograd6Bf16, Lattice };
Conv2dAlgo conv2d_algo(const Conv2dShape& s, Conv2dPass pass, bool float64 = false);
const char* conv2d_algo_name(Conv2dAlgo a);

// How conv2d_algo chooses. Auto: by shape (float) and Direct (float64). The others force one
// algorithm wherever it can run, for float and float64 alike (tests cover every path this way);
// Gemm keeps float64 on Direct; Lattice runs every dilated forward it applies to on its
// sub-lattices, whose undilated convolutions then take what the other passes take in this mode
// (the implicit GEMM; Direct in float64). A forced Winograd tile multiplies in float32 under every
// inference precision: the bf16 products (Winograd*Bf16) are reached through Auto only. Set at start
// from MPFNET_CONV_ALGO=auto|gemm|winograd|winograd2|winograd6|winograd8|lattice|direct, and at run
// time with set_conv2d_algo_mode.
enum class Conv2dAlgoMode { Auto, Gemm, Winograd4, Winograd2, Winograd6, Winograd8, Lattice, Direct };
Conv2dAlgoMode conv2d_algo_mode();
void set_conv2d_algo_mode(Conv2dAlgoMode m);
const char* conv2d_algo_mode_name(Conv2dAlgoMode m);
// false when `name` is none of the names above.
bool parse_conv2d_algo_mode(const char* name, Conv2dAlgoMode* out);

// An elementwise activation fused into the forward pass: every algorithm applies it to each output
// value as it writes it (Winograd: to each transformed, biased vector as it is staged, in registers
// on AVX2 / AVX-512; implicit GEMM: to each finished block of C while it is in L2, through
// SgemmProblem::finish; direct: to each finished plane), so the pre-activation never makes an extra
// trip through memory and never has to be kept for backward (SELU's derivative follows from its
// output, common/unary_math.h). Selu is exactly the unary op's SELU (cpu/simd/unary.h,
// selu_serial): fused and unfused results agree bit for bit.
enum class Conv2dActivation { None, Selu };
const char* conv2d_activation_name(Conv2dActivation a);
// false when `name` is none of "none", "selu".
bool parse_conv2d_activation(const char* name, Conv2dActivation* out);
// y[i] = act(y[i]) for i < n, on the calling thread (the kernels call it on blocks they own).
template <typename T>
void conv2d_activation_apply(Conv2dActivation a, T* y, int64_t n);

// y (batch, out, oh, ow) = act(conv(concat(xs), w) + b). xs[j]: (batch, in_channels[j], in_h, in_w);
// b may be null. channel_means (batch, out), may be null: the mean of each output plane, for the
// squeeze-excitation that follows a convolution in MPF-Net's blocks. Winograd sums each tile's
// staged output values while they are in L1 (no pass over y); the other algorithms add a pass.
template <typename T>
void conv2d_forward(const Conv2dShape& s, const std::vector<const T*>& xs, const T* w, const T* b, T* y,
                    Conv2dActivation act = Conv2dActivation::None, T* channel_means = nullptr);

// gxs[j] = d loss / d xs[j] given gy; parts whose pointer is null are skipped.
template <typename T>
void conv2d_backward_data(const Conv2dShape& s, const T* w, const T* gy, const std::vector<T*>& gxs);

// gw (out, in, kh, kw) = d loss / d w; gb (out, may be null) = d loss / d bias as well: the
// Winograd weight gradient sums its staged gy tiles in double while they are in L1 (as
// conv2d_backward_bias sums gy, without a pass of its own over it); the other algorithms call that.
template <typename T>
void conv2d_backward_weight(const Conv2dShape& s, const std::vector<const T*>& xs, const T* gy, T* gw, T* gb = nullptr);

// gb (out) = sum of gy over batch and pixels.
template <typename T>
void conv2d_backward_bias(const Conv2dShape& s, const T* gy, T* gb);

// The float64-style direct loops, exposed for any dtype so that checks can run them on float too.
template <typename T>
void conv2d_forward_direct(const Conv2dShape& s, const std::vector<const T*>& xs, const T* w, const T* b, T* y,
                           Conv2dActivation act = Conv2dActivation::None);
template <typename T>
void conv2d_backward_data_direct(const Conv2dShape& s, const T* w, const T* gy, const std::vector<T*>& gxs);
template <typename T>
void conv2d_backward_weight_direct(const Conv2dShape& s, const std::vector<const T*>& xs, const T* gy, T* gw);

}  // namespace mpf::cpu
