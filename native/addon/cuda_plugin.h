// Loading the CUDA plugin (native/cuda, mpfnet_cuda.so): found next to the loaded addon (or at
// $MPFNET_CUDA_PLUGIN), dlopened on first use of device 'cuda', its C table checked against
// MPF_CUDA_ABI_VERSION, the device initialised, and its caching allocator installed as the
// allocator of Device::CUDA. Every failure is kept as the reason cudaAvailable() reports.
#pragma once
#include <string>

#include "cuda/api.h"

namespace mpf {

struct CudaStatus {
  bool available = false;
  std::string reason;  // why not, when !available
  std::string plugin;  // the plugin's path (looked for or loaded)
  MpfCudaInfo info{};
  const MpfCudaApi* api = nullptr;
};

// Loads and initialises once (thread-safe); later calls return the same answer.
const CudaStatus& cuda_status();

// The plugin's table when it is already loaded, else nullptr (never loads it).
const MpfCudaApi* cuda_api_if_loaded();

}  // namespace mpf
