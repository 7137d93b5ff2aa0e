// What every kernel file of the CUDA plugin shares: the stream, error plumbing (C++ exceptions
// stop at the C ABI: guard() turns them into the message string api.h returns), launch sizes,
// dtype dispatch, strided offsets and scratch buffers from the caching allocator.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "common/errors.h"
#include "cuda/api.h"

namespace mpf::cuda {

// The plugin's one stream: every kernel and copy is queued on it, in call order.
cudaStream_t stream();
const MpfCudaOptions& options();
// Multiprocessors of the device (for sizing split-K launches).
int sm_count();

// Stores msg in a thread-local buffer and returns it (the C ABI's error string).
MpfErr fail(const std::string& msg);

struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear a non-sticky error so the next call starts clean
    throw CudaError(str(what, ": ", cudaGetErrorString(e), " (", cudaGetErrorName(e), ")"));
  }
}

// After a batch of launches: the launch error if any (and with options().sync_each, the error of
// the kernels themselves, found by waiting for them).
MpfErr finish();

// Runs f, returning nullptr or the message of whatever it threw or launched wrongly.
template <typename F>
MpfErr guard(F&& f) {
  try {
    f();
    return finish();
  } catch (const std::bad_alloc&) {
    return fail(MPF_CUDA_OOM_PREFIX " (host)");
  } catch (const std::exception& e) {
    return fail(e.what());
  } catch (...) {
    return fail("unknown C++ exception in the CUDA plugin");
  }
}

// Every kernel launch, on the plugin's one stream:
//   MPF_LAUNCH(grid, block, kernel<T>)(args...);
// (The kernel comes last so template arguments with commas need no parentheses. The CPU
// emulation used by the tests, native/cuda/emu, defines its own MPF_LAUNCH.)
#ifndef MPF_LAUNCH
#define MPF_LAUNCH(grid, block, ...) __VA_ARGS__<<<(grid), (block), 0, ::mpf::cuda::stream()>>>
#endif

constexpr int kThreads = 256;
// Enough blocks to fill any current GPU several times; grid-stride loops cover the rest.
inline unsigned blocks_for(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  if (b > 65535) b = 65535;
  return unsigned(b < 1 ? 1 : b);
}

// One block per item up to the grid limit (block-stride loops cover the rest); never 0 blocks,
// which is an invalid launch: callers with no items return before launching.
inline unsigned blocks_capped(int64_t n) { return unsigned(n < 1 ? 1 : n > 65535 ? 65535 : n); }

// A strided device-to-device copy (src == nullptr: zero fill) of `height` rows of `width` bytes.
// cudaMemcpy2D rejects pitches above the device's limit (2^31 - 1 bytes on current GPUs), which a
// large image's channel planes can exceed; those are copied row by row.
void copy_rows(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height, const char* what);

#define MPF_GRID_LOOP(i, n)                                                                   \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x, i##_step = int64_t(blockDim.x) * gridDim.x; \
       i < (n); i += i##_step)

// f(T{}) for the runtime dtype.
template <typename F>
void by_dtype(int32_t dt, F&& f) {
  if (dt == MPF_F32) f(float{});
  else if (dt == MPF_F64) f(double{});
  else throw std::invalid_argument(str("unknown dtype id ", dt));
}

// q = a / b, r = a % b, with 32-bit division when both fit (64-bit division is a long subroutine).
__device__ __forceinline__ void divmod(int64_t a, int64_t b, int64_t& q, int64_t& r) {
  if (((a | b) >> 32) == 0) {
    const uint32_t qq = uint32_t(a) / uint32_t(b);
    q = qq;
    r = a - int64_t(qq) * b;
  } else {
    q = a / b;
    r = a - q * b;
  }
}

// Element offsets of the N operands of a strided plan at row-major index i.
template <int N>
__device__ __forceinline__ void plan_offsets(const MpfStrided& p, int64_t i, int64_t (&off)[N]) {
  if (p.rank == 1) {
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = i * p.stride[k][0];
    return;
  }
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = p.rank - 1; d >= 0; --d) {
    int64_t q, r;
    divmod(i, p.size[d], q, r);
    i = q;
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] += r * p.stride[k][d];
  }
}

inline int64_t plan_numel(const MpfStrided& p) {
  int64_t n = 1;
  for (int d = 0; d < p.rank; ++d) n *= p.size[d];
  return n;
}

// Offset of index i in a (size, stride) walk of `rank` dims.
__device__ __forceinline__ int64_t walk_offset(int rank, const int64_t* size, const int64_t* stride, int64_t i) {
  int64_t off = 0;
  for (int d = rank - 1; d >= 0; --d) {
    int64_t q, r;
    divmod(i, size[d], q, r);
    i = q;
    off += r * stride[d];
  }
  return off;
}

// Device memory from the caching allocator (allocator.cu), throwing on failure.
void* device_alloc(size_t bytes);
void device_free(void* p, size_t bytes);

// A scratch buffer for the duration of one call. Freed blocks return to the cache at once: the
// stream orders every later use after the kernels queued with this one.
class Scratch {
 public:
  Scratch() = default;
  explicit Scratch(size_t bytes) : bytes_(bytes), p_(bytes ? device_alloc(bytes) : nullptr) {}
  ~Scratch() {
    if (p_) device_free(p_, bytes_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  Scratch(Scratch&& o) noexcept : bytes_(o.bytes_), p_(o.p_) { o.p_ = nullptr; }
  Scratch& operator=(Scratch&& o) noexcept {
    if (this != &o) {
      if (p_) device_free(p_, bytes_);
      bytes_ = o.bytes_;
      p_ = o.p_;
      o.p_ = nullptr;
    }
    return *this;
  }
  template <typename T = void>
  T* get() const { return static_cast<T*>(p_); }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 0;
  void* p_ = nullptr;
};

// Host array -> scratch device copy (asynchronous; the host array must live until the copy is
// queued, which cudaMemcpyAsync from pageable memory guarantees on return).
Scratch upload(const void* host, size_t bytes);

}  // namespace mpf::cuda
