// Convolutions through cuDNN (compiled only when CMake found it: MPF_HAVE_CUDNN). cuDNN's legacy
// convolution API: the algorithm of each (pass, shape, dtype, TF32 setting) is searched once with
// cudnnFind*AlgorithmEx, on workspace from the caching allocator, and cached with its descriptors;
// later calls reuse both. TF32 is off unless options().allow_tf32 (MPFNET_CUDA_TF32=1): the
// descriptors ask for FMA math, like PyTorch with allow_tf32 = False.
#ifdef MPF_HAVE_CUDNN
#include <cudnn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "cuda/common.cuh"
#include "cuda/conv2d.cuh"
#include "cuda/cudnn_lazy.h"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

cudnnHandle_t g_handle = nullptr;
bool g_ready = false;  // cuDNN loaded and its handle made: conv2d.cu may route convolutions here

void check_dnn(cudnnStatus_t st, const char* what) {
  if (st != CUDNN_STATUS_SUCCESS) throw CudaError(str(what, ": ", MPF_DNN(cudnnGetErrorString)(st)));
}

enum class Pass { Forward = 0, BackwardData = 1, BackwardFilter = 2 };

struct Key {
  int pass, dtype, tf32;
  int64_t n, c, h, w, co, kh, kw, sh, sw, ph, pw, dh, dw;
  bool operator<(const Key& o) const {
    return std::tie(pass, dtype, tf32, n, c, h, w, co, kh, kw, sh, sw, ph, pw, dh, dw) <
           std::tie(o.pass, o.dtype, o.tf32, o.n, o.c, o.h, o.w, o.co, o.kh, o.kw, o.sh, o.sw, o.ph, o.pw, o.dh, o.dw);
  }
};

// Descriptors and the algorithm chosen for one key. Never destroyed (a handful per model).
struct Plan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  int algo = 0;
  size_t workspace = 0;
  cudnnMathType_t math = CUDNN_FMA_MATH;
};

std::mutex g_mu;
std::map<Key, Plan>& plans() {
  static auto* m = new std::map<Key, Plan>();
  return *m;
}
std::string g_last[3] = {"-", "-", "-"};

template <typename T>
cudnnDataType_t dnn_type() {
  return sizeof(T) == 4 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
}

int channels(const MpfConv2d& s) { return int(total_in_channels(s)); }

// The workspace a search may use: half of what the device has free, at most 2 GiB.
size_t search_limit() {
  size_t f = 0, t = 0;
  if (cudaMemGetInfo(&f, &t) != cudaSuccess) {
    cudaGetLastError();
    return size_t(256) << 20;
  }
  return std::min(f / 2, size_t(2) << 30);
}

template <typename T>
Plan make_descriptors(const MpfConv2d& s, bool tf32) {
  Plan p;
  const cudnnDataType_t dt = dnn_type<T>();
  check_dnn(MPF_DNN(cudnnCreateTensorDescriptor)(&p.x), "cudnnCreateTensorDescriptor");
  check_dnn(MPF_DNN(cudnnSetTensor4dDescriptor)(p.x, CUDNN_TENSOR_NCHW, dt, int(s.batch), channels(s), int(s.in_h), int(s.in_w)),
            "cudnnSetTensor4dDescriptor (x)");
  check_dnn(MPF_DNN(cudnnCreateTensorDescriptor)(&p.y), "cudnnCreateTensorDescriptor");
  check_dnn(MPF_DNN(cudnnSetTensor4dDescriptor)(p.y, CUDNN_TENSOR_NCHW, dt, int(s.batch), int(s.out_channels), int(s.out_h),
                                       int(s.out_w)),
            "cudnnSetTensor4dDescriptor (y)");
  check_dnn(MPF_DNN(cudnnCreateFilterDescriptor)(&p.w), "cudnnCreateFilterDescriptor");
  check_dnn(MPF_DNN(cudnnSetFilter4dDescriptor)(p.w, dt, CUDNN_TENSOR_NCHW, int(s.out_channels), channels(s), int(s.kernel_h),
                                       int(s.kernel_w)),
            "cudnnSetFilter4dDescriptor");
  check_dnn(MPF_DNN(cudnnCreateConvolutionDescriptor)(&p.conv), "cudnnCreateConvolutionDescriptor");
  check_dnn(MPF_DNN(cudnnSetConvolution2dDescriptor)(p.conv, int(s.pad_h), int(s.pad_w), int(s.stride_h), int(s.stride_w),
                                            int(s.dilation_h), int(s.dilation_w), CUDNN_CROSS_CORRELATION, dt),
            "cudnnSetConvolution2dDescriptor");
  p.math = (tf32 && sizeof(T) == 4) ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  check_dnn(MPF_DNN(cudnnSetConvolutionMathType)(p.conv, p.math), "cudnnSetConvolutionMathType");
  return p;
}

// Picks the fastest successful result (the list is sorted by time); in float32 without TF32 only
// plain FMA kernels qualify.
template <typename Perf>
const Perf* pick(const Perf* r, int count, bool fma_only) {
  for (int i = 0; i < count; ++i) {
    if (r[i].status != CUDNN_STATUS_SUCCESS) continue;
    if (fma_only && r[i].mathType != CUDNN_FMA_MATH) continue;
    return &r[i];
  }
  return nullptr;
}

// MPFNET_CUDNN_FIND_LOG=1: every search's candidates on stderr (algorithm, math, time, workspace),
// so a GPU run shows how close the alternatives came, not just the winner.
template <typename Perf>
void log_search(const char* pass, const MpfConv2d& s, const Perf* r, int count) {
  static const bool on = [] {
    const char* v = std::getenv("MPFNET_CUDNN_FIND_LOG");
    return v && *v && *v != '0';
  }();
  if (!on) return;
  std::fprintf(stderr, "cudnn find %s n%lld c%d %lldx%lld -> %lld k%lldx%lld d%lld:", pass, (long long)s.batch, channels(s),
               (long long)s.in_h, (long long)s.in_w, (long long)s.out_channels, (long long)s.kernel_h, (long long)s.kernel_w,
               (long long)s.dilation_h);
  for (int i = 0; i < count; ++i)
    std::fprintf(stderr, " [algo %d %s %s %.3f ms %zu KiB]", int(r[i].algo), r[i].mathType == CUDNN_FMA_MATH ? "fma" : "tc",
                 r[i].status == CUDNN_STATUS_SUCCESS ? "ok" : "fail", double(r[i].time), size_t(r[i].memory >> 10));
  std::fprintf(stderr, "\n");
}

// Search workspace straight from the device (not the cache, which would keep the large block):
// as much as search_limit() allows, halving while cudaMalloc refuses.
struct SearchWorkspace {
  void* p = nullptr;
  size_t bytes = 0;
  SearchWorkspace() {
    for (bytes = search_limit(); bytes >= (size_t(1) << 20); bytes /= 2) {
      if (cudaMalloc(&p, bytes) == cudaSuccess) return;
      cudaGetLastError();
    }
    p = nullptr;
    bytes = 0;
  }
  ~SearchWorkspace() {
    if (p) {
      cudaStreamSynchronize(stream());
      cudaFree(p);
    }
  }
};

// The cached plan of this pass and shape, searching on first use with the real buffers (the
// search writes only the pass's output, which the call then overwrites).
template <typename T>
Plan& plan_for(Pass pass, const MpfConv2d& s, const void* a, const void* b, void* out) {
  const bool tf32 = options().allow_tf32 != 0;
  const Key k{int(pass),     sizeof(T) == 4 ? 0 : 1, tf32 ? 1 : 0, s.batch,  channels(s), s.in_h,       s.in_w,
              s.out_channels, s.kernel_h,           s.kernel_w,   s.stride_h, s.stride_w, s.pad_h,      s.pad_w,
              s.dilation_h,   s.dilation_w};
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = plans().find(k);
  if (it != plans().end()) return it->second;
  Plan p = make_descriptors<T>(s, tf32);
  const bool fma_only = !tf32 && sizeof(T) == 4;
  SearchWorkspace ws;
  const size_t limit = ws.bytes;
  constexpr int kMax = 16;
  int found = 0;
  if (pass == Pass::Forward) {
    cudnnConvolutionFwdAlgoPerf_t r[kMax];
    check_dnn(MPF_DNN(cudnnFindConvolutionForwardAlgorithmEx)(g_handle, p.x, a, p.w, b, p.conv, p.y, out, kMax, &found, r, ws.p,
                                                     limit),
              "cudnnFindConvolutionForwardAlgorithmEx");
    log_search("fwd", s, r, found);
    const auto* best = pick(r, found, fma_only);
    if (!best) throw CudaError("cuDNN found no usable forward convolution algorithm for this shape");
    p.algo = int(best->algo);
    p.workspace = best->memory;
    p.math = best->mathType;
  } else if (pass == Pass::BackwardData) {
    cudnnConvolutionBwdDataAlgoPerf_t r[kMax];
    check_dnn(MPF_DNN(cudnnFindConvolutionBackwardDataAlgorithmEx)(g_handle, p.w, a, p.y, b, p.conv, p.x, out, kMax, &found, r,
                                                          ws.p, limit),
              "cudnnFindConvolutionBackwardDataAlgorithmEx");
    log_search("bwd-data", s, r, found);
    const auto* best = pick(r, found, fma_only);
    if (!best) throw CudaError("cuDNN found no usable backward-data convolution algorithm for this shape");
    p.algo = int(best->algo);
    p.workspace = best->memory;
    p.math = best->mathType;
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t r[kMax];
    check_dnn(MPF_DNN(cudnnFindConvolutionBackwardFilterAlgorithmEx)(g_handle, p.x, a, p.y, b, p.conv, p.w, out, kMax, &found, r,
                                                            ws.p, limit),
              "cudnnFindConvolutionBackwardFilterAlgorithmEx");
    log_search("bwd-filter", s, r, found);
    const auto* best = pick(r, found, fma_only);
    if (!best) throw CudaError("cuDNN found no usable backward-filter convolution algorithm for this shape");
    p.algo = int(best->algo);
    p.workspace = best->memory;
    p.math = best->mathType;
  }
  check_dnn(MPF_DNN(cudnnSetConvolutionMathType)(p.conv, p.math), "cudnnSetConvolutionMathType");
  return plans().emplace(k, p).first->second;
}

void note(Pass pass, const Plan& p) {
  g_last[int(pass)] = str("algo ", p.algo, p.math == CUDNN_FMA_MATH ? " fma" : " tensor-op", ", ws ", p.workspace >> 10, " KiB");
}

}  // namespace

int32_t cudnn_version() { return g_ready ? int32_t(MPF_DNN(cudnnGetVersion)()) : 0; }

bool cudnn_ready() { return g_ready; }

std::string cudnn_init(cudaStream_t s) {
  if (!cudnn_load().empty()) return cudnn_load();
  try {
    check_dnn(MPF_DNN(cudnnCreate)(&g_handle), "cudnnCreate");
    check_dnn(MPF_DNN(cudnnSetStream)(g_handle, s), "cudnnSetStream");
  } catch (const std::exception& e) {
    return e.what();
  }
  g_ready = true;
  return "";
}

const char* cudnn_conv2d_description() {
  static thread_local std::string d;
  d = str("cuDNN ", MPF_DNN(cudnnGetVersion)(), " (forward: ", g_last[0], "; backward data: ", g_last[1], "; backward filter: ",
          g_last[2], options().allow_tf32 ? "; TF32 allowed)" : "; TF32 off)");
  return d.c_str();
}

// A convolution over several inputs (the cross-perception blocks' c1 reads two 52-channel maps) runs
// one of two ways: the inputs concatenated into one copy and one convolution ("concat"), or one
// convolution per input with its slice of the weights, accumulating into y with beta = 1 ("split").
// Which is faster depends on the shape: cuDNN picks its kernel by the channel count, and on an H200
// (cuDNN 9.19, fp32) split made a 256x256 inference pass 17% faster while it made the batch-32
// training step 8% slower. So each shape is timed both ways on its first call, like cudnnFind's
// choice of algorithm, and the faster kept; MPFNET_CUDNN_SPLIT_PARTS=1 / 0 forces one way.

template <typename T>
void forward_concat(const MpfConv2d& s, const T* const* xs, const T* w, T* y) {
  Scratch cat;
  const T* x = xs[0];
  if (s.parts > 1) {
    cat = Scratch(size_t(s.batch * total_in_channels(s) * s.in_h * s.in_w) * sizeof(T));
    concat_parts(s, xs, cat.get<T>());
    x = cat.get<T>();
  }
  Plan& p = plan_for<T>(Pass::Forward, s, x, w, y);
  Scratch ws(p.workspace);
  const T one = 1, zero = 0;
  check_dnn(MPF_DNN(cudnnConvolutionForward)(g_handle, &one, p.x, x, p.w, w, p.conv, cudnnConvolutionFwdAlgo_t(p.algo), ws.get(),
                                    p.workspace, &zero, p.y, y),
            "cudnnConvolutionForward");
  note(Pass::Forward, p);
}

template <typename T>
void forward_split(const MpfConv2d& s, const T* const* xs, const T* w, T* y) {
  const int64_t C = total_in_channels(s), taps = s.kernel_h * s.kernel_w;
  std::vector<MpfConv2d> part(size_t(s.parts), s);
  std::vector<Scratch> wpart;
  std::vector<Plan*> plans_of;
  int64_t c0 = 0;
  for (int j = 0; j < s.parts; ++j) {
    part[j].parts = 1;
    part[j].in_channels = &s.in_channels[j];
    const int64_t cj = s.in_channels[j];
    // w[:, c0:c0+cj] as its own contiguous filter: one row of cj * taps values per output channel.
    wpart.emplace_back(size_t(s.out_channels * cj * taps) * sizeof(T));
    copy_rows(wpart.back().get(), size_t(cj * taps) * sizeof(T), w + c0 * taps, size_t(C * taps) * sizeof(T),
              size_t(cj * taps) * sizeof(T), size_t(s.out_channels), "conv2d: slicing the weights per input part");
    c0 += cj;
  }
  // Every search before the first accumulation: a search writes y.
  for (int j = 0; j < s.parts; ++j) plans_of.push_back(&plan_for<T>(Pass::Forward, part[j], xs[j], wpart[j].get(), y));
  for (int j = 0; j < s.parts; ++j) {
    Plan& p = *plans_of[j];
    Scratch ws(p.workspace);
    const T one = 1, beta = j == 0 ? T(0) : T(1);
    check_dnn(MPF_DNN(cudnnConvolutionForward)(g_handle, &one, p.x, xs[j], p.w, wpart[j].get(), p.conv,
                                               cudnnConvolutionFwdAlgo_t(p.algo), ws.get(), p.workspace, &beta, p.y, y),
              "cudnnConvolutionForward");
    note(Pass::Forward, p);
  }
}

// -1 unset (measure), 0 concat, 1 split: MPFNET_CUDNN_SPLIT_PARTS.
int split_parts_forced() {
  static const int v = [] {
    const char* e = std::getenv("MPFNET_CUDNN_SPLIT_PARTS");
    return !e || !*e ? -1 : *e == '0' ? 0 : 1;
  }();
  return v;
}

// The GPU time of f, after one untimed call (searches, warm caches).
template <typename F>
float gpu_ms(F&& f) {
  f();
  cudaEvent_t a = nullptr, b = nullptr;
  check(cudaEventCreate(&a), "cudaEventCreate");
  check(cudaEventCreate(&b), "cudaEventCreate");
  check(cudaEventRecord(a, stream()), "cudaEventRecord");
  for (int i = 0; i < 3; ++i) f();
  check(cudaEventRecord(b, stream()), "cudaEventRecord");
  check(cudaEventSynchronize(b), "cudaEventSynchronize");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, a, b), "cudaEventElapsedTime");
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms;
}

// Whether this multi-part shape runs split: forced, known, or measured now (never while a CUDA
// graph is being captured, which a wait would break: concat then, until an eager call measures).
template <typename T>
bool use_split(const MpfConv2d& s, const T* const* xs, const T* w, T* y) {
  if (split_parts_forced() >= 0) return split_parts_forced() == 1;
  static std::map<std::string, bool> chosen;
  std::string key = str(sizeof(T), ":", s.batch, "x", s.in_h, "x", s.in_w, "->", s.out_channels, "k", s.kernel_h, "x", s.kernel_w,
                        "s", s.stride_h, "x", s.stride_w, "p", s.pad_h, "x", s.pad_w, "d", s.dilation_h, "x", s.dilation_w, ":");
  for (int j = 0; j < s.parts; ++j) key += str(s.in_channels[j], ",");
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = chosen.find(key);
    if (it != chosen.end()) return it->second;
  }
  if (capturing()) return false;
  const float concat_ms = gpu_ms([&] { forward_concat<T>(s, xs, w, y); });
  const float split_ms = gpu_ms([&] { forward_split<T>(s, xs, w, y); });
  std::lock_guard<std::mutex> lock(g_mu);
  return chosen[key] = split_ms < concat_ms;
}

template <typename T>
void cudnn_conv2d_forward(const MpfConv2d& s, const T* const* xs, const T* w, const T* b, T* y) {
  if (s.parts > 1 && use_split<T>(s, xs, w, y)) forward_split<T>(s, xs, w, y);
  else forward_concat<T>(s, xs, w, y);
  bias_activation(s, b, y);
}

template <typename T>
void cudnn_conv2d_backward_data(const MpfConv2d& s, const T* w, const T* gy, T* const* gxs) {
  Scratch full;
  T* gx = gxs[0];
  if (s.parts > 1) {
    full = Scratch(size_t(s.batch * total_in_channels(s) * s.in_h * s.in_w) * sizeof(T));
    gx = full.get<T>();
  }
  Plan& p = plan_for<T>(Pass::BackwardData, s, w, gy, gx);
  Scratch ws(p.workspace);
  const T one = 1, zero = 0;
  check_dnn(MPF_DNN(cudnnConvolutionBackwardData)(g_handle, &one, p.w, w, p.y, gy, p.conv, cudnnConvolutionBwdDataAlgo_t(p.algo),
                                         ws.get(), p.workspace, &zero, p.x, gx),
            "cudnnConvolutionBackwardData");
  if (s.parts > 1) split_parts(s, gx, gxs);
  note(Pass::BackwardData, p);
}

template <typename T>
void cudnn_conv2d_backward_weight(const MpfConv2d& s, const T* const* xs, const T* gy, T* gw) {
  Scratch cat;
  const T* x = xs[0];
  if (s.parts > 1) {
    cat = Scratch(size_t(s.batch * total_in_channels(s) * s.in_h * s.in_w) * sizeof(T));
    concat_parts(s, xs, cat.get<T>());
    x = cat.get<T>();
  }
  Plan& p = plan_for<T>(Pass::BackwardFilter, s, x, gy, gw);
  Scratch ws(p.workspace);
  const T one = 1, zero = 0;
  check_dnn(MPF_DNN(cudnnConvolutionBackwardFilter)(g_handle, &one, p.x, x, p.y, gy, p.conv,
                                           cudnnConvolutionBwdFilterAlgo_t(p.algo), ws.get(), p.workspace, &zero, p.w, gw),
            "cudnnConvolutionBackwardFilter");
  note(Pass::BackwardFilter, p);
}

#define MPF_INSTANTIATE(T)                                                                                  \
  template void cudnn_conv2d_forward<T>(const MpfConv2d&, const T* const*, const T*, const T*, T*);         \
  template void cudnn_conv2d_backward_data<T>(const MpfConv2d&, const T*, const T*, T* const*);             \
  template void cudnn_conv2d_backward_weight<T>(const MpfConv2d&, const T* const*, const T*, T*);
MPF_INSTANTIATE(float)
MPF_INSTANTIATE(double)
#undef MPF_INSTANTIATE

}  // namespace mpf::cuda
#endif  // MPF_HAVE_CUDNN
