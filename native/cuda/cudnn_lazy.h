// cuDNN loaded at run time instead of linked (see cudnn_lazy.cu). conv2d_cudnn.cu calls every cuDNN
// function through MPF_DNN(name)(args...): the pointer type comes from cudnn.h's own declaration,
// so no signature is written twice, and the plugin has no link-time dependency on libcudnn.
#pragma once
#include <string>

namespace mpf::cuda {

// Loads cuDNN once (preloading cuBLASLt, which cuDNN's legacy convolutions dlopen themselves) and
// resolves every function the plugin calls. Returns "" or why cuDNN cannot be used; the plugin then
// runs its own convolution kernels and reports the reason (cudaAvailable().cudnnNote).
const std::string& cudnn_load();

// The address of a resolved cuDNN function; throws if cudnn_load() failed or the name is unknown.
void* cudnn_symbol(const char* name);

}  // namespace mpf::cuda

#define MPF_DNN(fn) (reinterpret_cast<decltype(&::fn)>(::mpf::cuda::cudnn_symbol(#fn)))
