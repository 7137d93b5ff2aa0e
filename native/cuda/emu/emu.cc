// The CPU emulation's scheduler and runtime (see README.md). A grid runs block by block. A
// block's threads first run one after another as plain calls; the first __syncthreads() in that
// mode aborts the block (before any thread has passed a barrier, so it has written only shared
// memory) and it runs again with each thread as a fiber (ucontext): a barrier switches back to the
// scheduler, which resumes the threads round-robin, so all reach barrier k before any passes it.
// Kernels seen to use barriers start in fiber mode afterwards.
#include <ucontext.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

#include "emu.h"

namespace mpf_emu {

Index threadIdx, blockIdx;
dim3 blockDim, gridDim;

namespace {

struct NeedFibers {};

bool g_fiber_mode = false;
ucontext_t g_scheduler;
std::vector<ucontext_t> g_fibers;
std::vector<char> g_done;
std::vector<std::vector<char>> g_stacks;
unsigned g_current = 0;
const std::function<void()>* g_body = nullptr;
std::set<const void*> g_barrier_kernels;
constexpr size_t kStack = 256 * 1024;

void set_thread(unsigned t) {
  threadIdx.x = t % blockDim.x;
  threadIdx.y = (t / blockDim.x) % blockDim.y;
  threadIdx.z = t / (blockDim.x * blockDim.y);
}

void fiber_entry() {
  (*g_body)();
  g_done[g_current] = 1;
  // returning resumes uc_link: the scheduler
}

void run_block_fibers(unsigned n) {
  g_fibers.resize(n);
  g_done.assign(n, 0);
  if (g_stacks.size() < n) g_stacks.resize(n);
  for (unsigned t = 0; t < n; ++t) {
    if (g_stacks[t].empty()) g_stacks[t].resize(kStack);
    getcontext(&g_fibers[t]);
    g_fibers[t].uc_stack.ss_sp = g_stacks[t].data();
    g_fibers[t].uc_stack.ss_size = kStack;
    g_fibers[t].uc_link = &g_scheduler;
    makecontext(&g_fibers[t], fiber_entry, 0);
  }
  g_fiber_mode = true;
  unsigned alive = n;
  while (alive) {
    alive = 0;
    for (unsigned t = 0; t < n; ++t) {
      if (g_done[t]) continue;
      g_current = t;
      set_thread(t);
      swapcontext(&g_scheduler, &g_fibers[t]);
      if (!g_done[t]) ++alive;
    }
  }
  g_fiber_mode = false;
}

}  // namespace

void syncthreads() {
  if (!g_fiber_mode) throw NeedFibers{};
  swapcontext(&g_fibers[g_current], &g_scheduler);
}

// The capture under way (cudaStreamBeginCapture .. EndCapture): launches and copies are recorded here
// instead of run; `broken` once something a real capture rejects happened (a wait, a copy to the host).
struct Capture {
  std::vector<std::function<void()>> steps;
  bool broken = false;
};
Capture* g_capture = nullptr;

void run_grid_now(dim3 grid, dim3 block, const void* kernel_id, const std::function<void()>& body);

void run_grid(dim3 grid, dim3 block, const void* kernel_id, const std::function<void()>& body) {
  if (g_capture) {
    g_capture->steps.push_back([=] { run_grid_now(grid, block, kernel_id, body); });
    return;
  }
  run_grid_now(grid, block, kernel_id, body);
}

void run_grid_now(dim3 grid, dim3 block, const void* kernel_id, const std::function<void()>& body) {
  gridDim = grid;
  blockDim = block;
  g_body = &body;
  const unsigned n = block.x * block.y * block.z;
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        blockIdx.x = bx;
        blockIdx.y = by;
        blockIdx.z = bz;
        if (!g_barrier_kernels.count(kernel_id)) {
          try {
            for (unsigned t = 0; t < n; ++t) {
              set_thread(t);
              body();
            }
            continue;
          } catch (const NeedFibers&) {
            g_barrier_kernels.insert(kernel_id);
          }
        }
        run_block_fibers(n);
      }
}

}  // namespace mpf_emu

// --- the runtime: host memory, synchronous copies -----------------------------------------------
struct MpfEmuStream {};
namespace {
cudaError_t g_last = cudaSuccess;
MpfEmuStream g_stream;
}  // namespace

cudaError_t cudaGetLastError() {
  cudaError_t e = g_last;
  g_last = cudaSuccess;
  return e;
}
const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorMemoryAllocation: return "out of memory (emulated)";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing (emulated)";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture (emulated)";
    default: return "emulated CUDA error";
  }
}
const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    default: return "cudaErrorUnknown";
  }
}
cudaError_t cudaGetDeviceCount(int* n) {
  *n = 1;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int) { return cudaSuccess; }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int) {
  std::memset(p, 0, sizeof(*p));
  std::snprintf(p->name, sizeof(p->name), "CPU emulation of the CUDA plugin");
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = 4;
  p->totalGlobalMem = size_t(8) << 30;
  return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int* v) {
  *v = 0;
  return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int* v) {
  *v = 0;
  return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
  *s = &g_stream;
  return cudaSuccess;
}
// A wait on a capturing stream fails and breaks the capture, as on a GPU.
cudaError_t cudaStreamSynchronize(cudaStream_t) {
  if (!mpf_emu::g_capture) return cudaSuccess;
  mpf_emu::g_capture->broken = true;
  return g_last = cudaErrorStreamCaptureUnsupported, cudaErrorStreamCaptureUnsupported;
}

// Runs `step` now, or records it when a capture is under way (also for the cub shim).
cudaError_t mpf_emu_enqueue(std::function<void()> step) {
  if (mpf_emu::g_capture) mpf_emu::g_capture->steps.push_back(std::move(step));
  else step();
  return cudaSuccess;
}
cudaError_t cudaMalloc(void** p, size_t bytes) {
  // Emulated out-of-memory for tests: MPFNET_CUDA_EMU_LIMIT bytes per allocation.
  static const char* lim = std::getenv("MPFNET_CUDA_EMU_LIMIT");
  if (lim && bytes > std::strtoull(lim, nullptr, 10)) return g_last = cudaErrorMemoryAllocation, cudaErrorMemoryAllocation;
  *p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFree(void* p) {
  std::free(p);
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* f, size_t* t) {
  *f = size_t(4) << 30;
  *t = size_t(8) << 30;
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  if (mpf_emu::g_capture && kind == cudaMemcpyDeviceToHost) {  // the host would need to wait: not recordable
    mpf_emu::g_capture->broken = true;
    return g_last = cudaErrorStreamCaptureUnsupported, cudaErrorStreamCaptureUnsupported;
  }
  return mpf_emu_enqueue([=] { std::memmove(dst, src, bytes); });
}
cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind, cudaStream_t) {
  if (width > dpitch || width > spitch) return g_last = cudaErrorInvalidValue, cudaErrorInvalidValue;
  return mpf_emu_enqueue([=] {
    for (size_t r = 0; r < height; ++r)
      std::memcpy(static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch, width);
  });
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) {
  return mpf_emu_enqueue([=] { std::memset(p, value, bytes); });
}
cudaError_t cudaMemset2DAsync(void* p, size_t pitch, int value, size_t width, size_t height, cudaStream_t) {
  if (width > pitch) return g_last = cudaErrorInvalidValue, cudaErrorInvalidValue;
  return mpf_emu_enqueue([=] {
    for (size_t r = 0; r < height; ++r) std::memset(static_cast<char*>(p) + r * pitch, value, width);
  });
}

// --- graphs: a capture's recorded steps, replayed in order ---------------------------------------
struct MpfEmuGraph {
  std::vector<std::function<void()>> steps;
};
cudaError_t cudaStreamBeginCapture(cudaStream_t, cudaStreamCaptureMode) {
  if (mpf_emu::g_capture) return g_last = cudaErrorStreamCaptureUnsupported, cudaErrorStreamCaptureUnsupported;
  mpf_emu::g_capture = new mpf_emu::Capture();
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t, cudaGraph_t* g) {
  *g = nullptr;
  mpf_emu::Capture* c = mpf_emu::g_capture;
  if (!c) return g_last = cudaErrorInvalidValue, cudaErrorInvalidValue;
  mpf_emu::g_capture = nullptr;
  const bool broken = c->broken;
  if (!broken) *g = new MpfEmuGraph{std::move(c->steps)};
  delete c;
  return broken ? (g_last = cudaErrorStreamCaptureInvalidated, cudaErrorStreamCaptureInvalidated) : cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t g, unsigned long long) {
  if (!g) return g_last = cudaErrorInvalidValue, cudaErrorInvalidValue;
  *exec = new MpfEmuGraph{g->steps};
  return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t) {
  if (!exec || mpf_emu::g_capture) return g_last = cudaErrorInvalidValue, cudaErrorInvalidValue;
  for (auto& step : exec->steps) step();
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t g) {
  delete g;
  return cudaSuccess;
}
