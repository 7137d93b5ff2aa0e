// The plugin's state and its exported table: device selection, the one stream, options, copies,
// error plumbing, and mpf_cuda_api() (the only exported symbol).
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "cuda/common.cuh"
#include "cuda/conv2d.cuh"
#include "cuda/ops.h"

#ifndef MPF_CUDA_ARCHS_STRING
#define MPF_CUDA_ARCHS_STRING "unknown architectures"
#endif

namespace mpf::cuda {
namespace {

cudaStream_t g_stream = nullptr;
MpfCudaOptions g_options{};
MpfCudaInfo g_info{};
std::string g_init_error;
std::once_flag g_init_once;

bool env_on(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0 && std::strcmp(v, "false") != 0;
}

__global__ void probe_kernel(int* out) { *out = 42; }

// Fills g_info, creates the stream; returns "" or why CUDA is unusable.
std::string do_init() {
#ifndef MPF_CUDA_EMULATION
  // Without a driver the runtime only says "insufficient driver"; say what is missing instead.
  if (!dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL))
    return str("no NVIDIA driver: libcuda.so.1 cannot be loaded (", dlerror(), ")");
  // The runtime is linked statically (CUDART_VERSION); a driver older than its major version fails
  // every later call with a vague "insufficient driver": say which versions meet instead.
  int driver = 0;
  if (cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0 && driver / 1000 < CUDART_VERSION / 1000) {
    return str("the NVIDIA driver supports CUDA ", driver / 1000, ".", (driver % 1000) / 10, ", but the plugin was built with CUDA ",
               CUDART_VERSION / 1000, ".", (CUDART_VERSION % 1000) / 10,
               ": install a newer driver, or rebuild with a CUDA toolkit the driver supports (npm rebuild mpfnet)");
  }
#endif
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return str("cudaGetDeviceCount failed: ", cudaGetErrorString(e));
  }
  if (count == 0) {
    const char* vis = std::getenv("CUDA_VISIBLE_DEVICES");
    return str("no CUDA device is visible", vis ? str(" (CUDA_VISIBLE_DEVICES=", vis, ")") : std::string());
  }
  try {
    check(cudaSetDevice(0), "cudaSetDevice(0)");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    std::strncpy(g_info.device, prop.name, sizeof(g_info.device) - 1);
    g_info.index = 0;
    g_info.cc_major = prop.major;
    g_info.cc_minor = prop.minor;
    g_info.multiprocessors = prop.multiProcessorCount;
    g_info.total_memory = int64_t(prop.totalGlobalMem);
    int v = 0;
    check(cudaDriverGetVersion(&v), "cudaDriverGetVersion");
    g_info.driver_version = v;
    check(cudaRuntimeGetVersion(&v), "cudaRuntimeGetVersion");
    g_info.runtime_version = v;
    check(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking), "cudaStreamCreate");
    // A kernel launch proves the build has code this device can run (SASS for its architecture,
    // or PTX it can compile).
    int* d = nullptr;
    check(cudaMalloc(&d, sizeof(int)), "cudaMalloc");
    MPF_LAUNCH(1, 1, probe_kernel)(d);
    cudaError_t le = cudaGetLastError();
    int h = 0;
    if (le == cudaSuccess) le = cudaMemcpyAsync(&h, d, sizeof(int), cudaMemcpyDeviceToHost, g_stream);
    if (le == cudaSuccess) le = cudaStreamSynchronize(g_stream);
    cudaFree(d);
    if (le != cudaSuccess || h != 42) {
      cudaGetLastError();
      return str("the CUDA plugin has no code for this GPU (compute capability ", prop.major, ".", prop.minor, "; built for ",
                 MPF_CUDA_ARCHS_STRING, "): ", cudaGetErrorString(le), ". Rebuild with MPFNET_CUDA_ARCHS=", prop.major,
                 prop.minor);
    }
    // cuDNN is optional: its failure is recorded, and convolutions use the own kernels.
    const std::string dnn = cudnn_init(g_stream);
    std::strncpy(g_info.cudnn_note, dnn.c_str(), sizeof(g_info.cudnn_note) - 1);
    g_info.cudnn_version = cudnn_version();
  } catch (const std::exception& ex) {
    return ex.what();
  }
  g_options.allow_tf32 = env_on("MPFNET_CUDA_TF32");
  const char* engine = std::getenv("MPFNET_CUDA_CONV");
  g_options.conv_engine = engine && std::strcmp(engine, "own") == 0 ? 1 : 0;
  g_options.sync_each = env_on("MPFNET_CUDA_SYNC");
  return "";
}

}  // namespace

cudaStream_t stream() { return g_stream; }
const MpfCudaOptions& options() { return g_options; }
int sm_count() { return g_info.multiprocessors > 0 ? g_info.multiprocessors : 1; }

MpfErr fail(const std::string& msg) {
  static thread_local std::string buf;
  buf = msg;
  return buf.c_str();
}

MpfErr finish() {
  cudaError_t e = cudaGetLastError();
  // No wait while a graph is being captured: a synchronisation would end the capture with an error.
  if (e == cudaSuccess && g_options.sync_each && !capturing()) e = cudaStreamSynchronize(g_stream);
  if (e == cudaSuccess) return nullptr;
  cudaGetLastError();
  return fail(str("CUDA error: ", cudaGetErrorString(e), " (", cudaGetErrorName(e), ")"));
}

Scratch upload(const void* host, size_t bytes) {
  Scratch s(bytes);
  if (bytes) check(cudaMemcpyAsync(s.get(), host, bytes, cudaMemcpyHostToDevice, g_stream), "cudaMemcpyAsync (upload)");
  return s;
}

MpfErr api_init(MpfCudaInfo* info) {
  std::call_once(g_init_once, [] { g_init_error = do_init(); });
  if (!g_init_error.empty()) return fail(g_init_error);
  if (info) *info = g_info;
  return nullptr;
}

MpfErr api_set_options(const MpfCudaOptions* o) {
  g_options = *o;
  return nullptr;
}

MpfErr api_get_options(MpfCudaOptions* o) {
  *o = g_options;
  return nullptr;
}

MpfErr api_synchronize() {
  return guard([] { check(cudaStreamSynchronize(g_stream), "cudaStreamSynchronize"); });
}

MpfErr api_memset(void* p, int value, size_t bytes) {
  return guard([&] { check(cudaMemsetAsync(p, value, bytes, g_stream), "cudaMemsetAsync"); });
}

MpfErr api_copy_h2d(void* dst, const void* src, size_t bytes) {
  return guard([&] { check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, g_stream), "copy to the GPU"); });
}

// Waits for the copy: the host buffer is read right after.
MpfErr api_copy_d2h(void* dst, const void* src, size_t bytes) {
  return guard([&] {
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, g_stream), "copy from the GPU");
    check(cudaStreamSynchronize(g_stream), "copy from the GPU");
  });
}

MpfErr api_copy_d2d(void* dst, const void* src, size_t bytes) {
  return guard([&] { check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, g_stream), "device copy"); });
}

void copy_rows(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height, const char* what) {
  if (width == 0 || height == 0) return;
  constexpr size_t kMaxPitch = (size_t(1) << 31) - 1;
  if (dpitch <= kMaxPitch && (!src || spitch <= kMaxPitch)) {
    if (src) check(cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, height, cudaMemcpyDeviceToDevice, g_stream), what);
    else check(cudaMemset2DAsync(dst, dpitch, 0, width, height, g_stream), what);
    return;
  }
  for (size_t r = 0; r < height; ++r) {
    char* d = static_cast<char*>(dst) + r * dpitch;
    if (src) check(cudaMemcpyAsync(d, static_cast<const char*>(src) + r * spitch, width, cudaMemcpyDeviceToDevice, g_stream), what);
    else check(cudaMemsetAsync(d, 0, width, g_stream), what);
  }
}

MpfErr api_copy_2d(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height) {
  return guard([&] { copy_rows(dst, dpitch, src, spitch, width, height, src ? "strided device copy" : "strided zero fill"); });
}

namespace {

MpfCudaApi make_api() {
  MpfCudaApi a;
  std::memset(&a, 0, sizeof(a));
  a.abi_version = MPF_CUDA_ABI_VERSION;
  a.init = api_init;
  a.set_options = api_set_options;
  a.get_options = api_get_options;
  a.synchronize = api_synchronize;
  a.alloc = api_alloc;
  a.free = api_free;
  a.memory = api_memory;
  a.empty_cache = api_empty_cache;
  a.memset = api_memset;
  a.copy_h2d = api_copy_h2d;
  a.copy_d2h = api_copy_d2h;
  a.copy_d2d = api_copy_d2d;
  a.copy_2d = api_copy_2d;
  a.fill = fill;
  a.cast = cast;
  a.rand = rand;
  a.unary_forward = unary_forward;
  a.unary_backward = unary_backward;
  a.binary_forward = binary_forward;
  a.binary_grad = binary_grad;
  a.binary_backward_both = binary_backward_both;
  a.sum_reduce = sum_reduce;
  a.broadcast = broadcast;
  a.logsumexp_forward = logsumexp_forward;
  a.logsumexp_backward = logsumexp_backward;
  a.pixel_shuffle = pixel_shuffle;
  a.l1_loss = l1_loss;
  a.l1_backward = l1_backward;
  a.avg_pool2d_forward = avg_pool2d_forward;
  a.avg_pool2d_backward = avg_pool2d_backward;
  a.max_pool2d_forward = max_pool2d_forward;
  a.max_pool2d_backward = max_pool2d_backward;
  a.adam_update = adam_update;
  a.axpy = axpy;
  a.resize_apply = resize_apply;
  a.filter2d = filter2d;
  a.gaussian_noise = gaussian_noise;
  a.matmul_forward = matmul_forward;
  a.matmul_backward = matmul_backward;
  a.linear_forward = linear_forward;
  a.linear_backward = linear_backward;
  a.conv2d_forward = conv2d_forward;
  a.conv2d_backward_data = conv2d_backward_data;
  a.conv2d_backward_weight = conv2d_backward_weight;
  a.conv2d_backward_bias = conv2d_backward_bias;
  a.conv2d_engine = conv2d_engine;
  a.cr_samples = cr_samples;
  a.cr_similarity_forward = cr_similarity_forward;
  a.cr_similarity_backward = cr_similarity_backward;
  a.se_pool = se_pool;
  a.se_excite = se_excite;
  a.se_backward = se_backward;
  a.graph_begin = graph_begin;
  a.graph_end = graph_end;
  a.graph_launch = graph_launch;
  a.graph_destroy = graph_destroy;
  return a;
}

}  // namespace
}  // namespace mpf::cuda

extern "C" __attribute__((visibility("default"))) const MpfCudaApi* mpf_cuda_api(int32_t abi_version) {
  static const MpfCudaApi api = mpf::cuda::make_api();
  return abi_version == MPF_CUDA_ABI_VERSION ? &api : nullptr;
}
