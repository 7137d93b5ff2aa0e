#include "addon/cuda_plugin.h"

// The plugin is loaded with POSIX dlopen (Linux, macOS). A Windows build compiles without it and
// reports the CUDA device as unavailable.
#if !defined(_WIN32)
#include <dlfcn.h>
#include <sys/stat.h>
#endif

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "addon/device.h"
#include "common/errors.h"
#include "common/tensor.h"

namespace mpf {
namespace {

constexpr const char* kPluginFile = "mpfnet_cuda.so";

CudaStatus g_status;
std::once_flag g_once;
const MpfCudaApi* g_api = nullptr;

#if !defined(_WIN32)
// The folder of the shared object this function is in: the loaded mpfnet.node.
std::string addon_dir() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&addon_dir), &info) || !info.dli_fname) return ".";
  std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

bool file_exists(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0;
}
#endif

// Storage's allocator for Device::CUDA: the plugin's caching allocator. A failure throws here (in
// the addon, never across the C boundary). Poison mode fills fresh device memory with NaN too.
void* cuda_alloc(size_t bytes) {
  void* p = nullptr;
  MpfErr e = g_api->alloc(bytes, &p);
  if (e) {
    if (std::strncmp(e, MPF_CUDA_OOM_PREFIX, std::strlen(MPF_CUDA_OOM_PREFIX)) == 0) throw RangeError(e);
    throw std::runtime_error(e);
  }
  if (poison_new_tensors()) {
    MpfErr m = g_api->memset(p, 0xFF, bytes);
    if (m) {
      g_api->free(p, bytes);
      throw std::runtime_error(m);
    }
  }
  return p;
}

void cuda_free(void* p, size_t bytes) { g_api->free(p, bytes); }

const Allocator kCudaAllocator{cuda_alloc, cuda_free};

void load() {
  CudaStatus& s = g_status;
#if defined(_WIN32)
  s.reason = "the CUDA plugin is not supported on Windows builds of mpfnet (CPU only)";
#else
  const char* env = std::getenv("MPFNET_CUDA_PLUGIN");
  s.plugin = env && *env ? std::string(env) : addon_dir() + "/" + kPluginFile;
  if (!file_exists(s.plugin)) {
    s.reason = str("this build of mpfnet has no CUDA plugin (", s.plugin,
                   " does not exist; it is compiled from source where the CUDA toolkit is found, e.g. "
                   "MPFNET_BUILD_FROM_SOURCE=1 npm rebuild mpfnet with nvcc on PATH)");
    return;
  }
  void* h = dlopen(s.plugin.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* err = dlerror();
    s.reason = str("cannot load the CUDA plugin ", s.plugin, ": ", err ? err : "unknown error");
    return;
  }
  auto fn = reinterpret_cast<MpfCudaApiFn>(dlsym(h, MPF_CUDA_API_SYMBOL));
  if (!fn) {
    s.reason = str("the CUDA plugin ", s.plugin, " has no ", MPF_CUDA_API_SYMBOL, " (not an mpfnet plugin?)");
    return;
  }
  const MpfCudaApi* api = fn(MPF_CUDA_ABI_VERSION);
  if (!api) {
    s.reason = str("the CUDA plugin ", s.plugin, " was built for another version of mpfnet (ABI ", MPF_CUDA_ABI_VERSION,
                   " expected); rebuild it");
    return;
  }
  if (MpfErr e = api->init(&s.info)) {
    s.reason = e;
    return;
  }
  g_api = api;
  s.api = api;
  s.available = true;
  set_device_allocator(Device::CUDA, &kCudaAllocator);
#endif
}

}  // namespace

const CudaStatus& cuda_status() {
  std::call_once(g_once, load);
  return g_status;
}

const MpfCudaApi* cuda_api_if_loaded() { return g_api; }

const MpfCudaApi& cuda_api(const char* op) {
  const CudaStatus& s = cuda_status();
  if (!s.available) throw_type(op, ": device 'cuda' is not available: ", s.reason);
  return *s.api;
}

void cuda_call(const char* op, MpfErr err) {
  if (!err) return;
  if (std::strncmp(err, MPF_CUDA_OOM_PREFIX, std::strlen(MPF_CUDA_OOM_PREFIX)) == 0) throw_range(op, ": ", err);
  throw std::runtime_error(str(op, ": ", err));
}

}  // namespace mpf
