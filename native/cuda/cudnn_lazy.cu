// Loading cuDNN with dlopen on first use, so that a missing or broken cuDNN costs the convolution
// engine only, never the whole CUDA backend (libcudnn.so.9 as a link-time dependency made the
// plugin fail to load at all). Where it is looked for, in order:
//   1. the folder CMake found it in at build time (MPF_CUDNN_LIB_DIR: a pip wheel's nvidia/cudnn/lib,
//      a toolkit folder, ...), 2. the loader's search path (LD_LIBRARY_PATH, ldconfig).
// cuDNN's legacy convolution API dlopens libcublasLt itself; inside a Python venv that library sits
// in nvidia/cublas/lib, which is on no search path, so it is preloaded here with RTLD_GLOBAL.
#ifdef MPF_HAVE_CUDNN
#include <cudnn.h>
#include <dlfcn.h>

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "common/errors.h"
#include "cuda/cudnn_lazy.h"

#ifndef MPF_CUDNN_LIB_DIR
#define MPF_CUDNN_LIB_DIR ""
#endif

namespace mpf::cuda {
namespace {

// Every cuDNN function conv2d_cudnn.cu calls through MPF_DNN (a name missing here is an error at the
// first call, which the plugin's tests and the GPU check both reach).
constexpr const char* kFunctions[] = {
    "cudnnGetVersion",
    "cudnnGetErrorString",
    "cudnnCreate",
    "cudnnSetStream",
    "cudnnCreateTensorDescriptor",
    "cudnnSetTensor4dDescriptor",
    "cudnnCreateFilterDescriptor",
    "cudnnSetFilter4dDescriptor",
    "cudnnCreateConvolutionDescriptor",
    "cudnnSetConvolution2dDescriptor",
    "cudnnSetConvolutionMathType",
    "cudnnFindConvolutionForwardAlgorithmEx",
    "cudnnFindConvolutionBackwardDataAlgorithmEx",
    "cudnnFindConvolutionBackwardFilterAlgorithmEx",
    "cudnnConvolutionForward",
    "cudnnConvolutionBackwardData",
    "cudnnConvolutionBackwardFilter",
};

std::map<std::string, void*> g_symbols;
std::string g_error;
std::once_flag g_once;

std::string dir_of_build() { return MPF_CUDNN_LIB_DIR; }

void* open_first(std::initializer_list<std::string> names, int flags, std::string* tried) {
  for (const std::string& n : names) {
    if (n.empty()) continue;
    if (void* h = dlopen(n.c_str(), flags)) return h;
    const char* e = dlerror();
    *tried += str("\n  ", n, ": ", e ? e : "not found");
  }
  return nullptr;
}

// cuBLASLt next to cuDNN in a venv: <site>/nvidia/cudnn/lib -> <site>/nvidia/cublas/lib. Failing
// here is not fatal (the system's loader path may have it); cuDNN then reports what it misses.
void preload_cublaslt() {
  const std::string d = dir_of_build();
  const std::string venv = d.empty() ? std::string() : d + "/../../cublas/lib/";
  std::string ignored;
  open_first({venv.empty() ? "" : venv + "libcublasLt.so.13", venv.empty() ? "" : venv + "libcublasLt.so.12",
              "libcublasLt.so.13", "libcublasLt.so.12"},
             RTLD_NOW | RTLD_GLOBAL, &ignored);
}

std::string load() {
  preload_cublaslt();
  const std::string d = dir_of_build();
  std::string tried;
  void* h = open_first({d.empty() ? "" : d + "/libcudnn.so.9", d.empty() ? "" : d + "/libcudnn.so", "libcudnn.so.9",
                        "libcudnn.so"},
                       RTLD_NOW | RTLD_LOCAL, &tried);
  if (!h) return str("cuDNN could not be loaded (tried:", tried, ")");
  for (const char* name : kFunctions) {
    void* p = dlsym(h, name);
    if (!p) return str("cuDNN lacks ", name, " (", dlerror(), ")");
    g_symbols[name] = p;
  }
  // The headers this plugin was compiled against must match the library's major version.
  const auto get_version = reinterpret_cast<decltype(&::cudnnGetVersion)>(g_symbols["cudnnGetVersion"]);
  const size_t v = get_version();
  const size_t major = v >= 10000 ? v / 10000 : v / 1000;
  if (major != CUDNN_MAJOR) {
    g_symbols.clear();
    return str("cuDNN ", v, " found, but the plugin was built against cuDNN ", CUDNN_MAJOR, " headers");
  }
  return "";
}

}  // namespace

const std::string& cudnn_load() {
  std::call_once(g_once, [] { g_error = load(); });
  return g_error;
}

void* cudnn_symbol(const char* name) {
  if (!cudnn_load().empty()) throw std::runtime_error(cudnn_load());
  auto it = g_symbols.find(name);
  if (it == g_symbols.end()) throw std::logic_error(str("cuDNN function ", name, " is not in cudnn_lazy.cu's list"));
  return it->second;
}

}  // namespace mpf::cuda
#endif  // MPF_HAVE_CUDNN
