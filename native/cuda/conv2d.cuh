// Convolution engines of the plugin behind the entry points of ops.h: cuDNN (conv2d_cudnn.cu, built
// when CMake found cuDNN: MPF_HAVE_CUDNN) and the own implicit-GEMM kernels (conv2d.cu), which
// every build has, so the plugin always has convolutions. conv2d.cu picks one per call.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "cuda/api.h"

namespace mpf::cuda {

// cudnnGetVersion(), or 0 when cuDNN is not in use.
int32_t cudnn_version();
// Loads cuDNN (cudnn_lazy.cu) and creates its handle on the stream. Returns "" or why cuDNN is not
// used; a failure costs only the cuDNN engine: convolutions then run on the own kernels.
std::string cudnn_init(cudaStream_t s);
// cudnn_init succeeded.
bool cudnn_ready();

// y = activation(y + b[c]) in place, one pass (s.activation; b may be null; nothing to do without either).
template <typename T>
void bias_activation(const MpfConv2d& s, const T* b, T* y);
template <typename T>
void own_conv2d_forward(const MpfConv2d& s, const T* const* xs, const T* w, const T* b, T* y);
template <typename T>
void own_conv2d_backward_data(const MpfConv2d& s, const T* w, const T* gy, T* const* gxs);
template <typename T>
void own_conv2d_backward_weight(const MpfConv2d& s, const T* const* xs, const T* gy, T* gw);

#ifdef MPF_HAVE_CUDNN
// The same passes through cuDNN; input parts are concatenated into scratch memory first (cuDNN
// reads one tensor), and gradients are split back.
template <typename T>
void cudnn_conv2d_forward(const MpfConv2d& s, const T* const* xs, const T* w, const T* b, T* y);
template <typename T>
void cudnn_conv2d_backward_data(const MpfConv2d& s, const T* w, const T* gy, T* const* gxs);
template <typename T>
void cudnn_conv2d_backward_weight(const MpfConv2d& s, const T* const* xs, const T* gy, T* gw);
// A description of the algorithms the last calls chose.
const char* cudnn_conv2d_description();
#endif

// Channel concatenation helpers shared by both engines (conv2d.cu): parts -> one (N, C, H, W)
// buffer, and one (N, C, H, W) buffer -> the parts whose pointer is not null.
template <typename T>
void concat_parts(const MpfConv2d& s, const T* const* xs, T* out);
template <typename T>
void split_parts(const MpfConv2d& s, const T* in, T* const* outs);
int64_t total_in_channels(const MpfConv2d& s);

}  // namespace mpf::cuda
