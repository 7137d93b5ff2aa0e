// Force-included (g++ -include) when the plugin's .cu files are compiled as C++ for the CPU
// emulation (native/cuda/emu/README.md): CUDA's keywords, the thread/block indices, and
// MPF_LAUNCH running every block of a grid, its threads as cooperative fibers so __syncthreads()
// and block-wide shared memory behave as on a GPU (blocks run one after another, so a __shared__
// variable can simply be a static).
#pragma once
#include <cmath>
#include <cstddef>
#include <functional>
#include <utility>

#include <cuda_runtime.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

namespace mpf_emu {

struct Index {
  unsigned x = 0, y = 0, z = 0;
};
extern Index threadIdx, blockIdx;
extern dim3 blockDim, gridDim;

void syncthreads();
// Runs body once per thread of every block of the grid.
void run_grid(dim3 grid, dim3 block, const void* kernel_id, const std::function<void()>& body);

template <typename... P>
struct Launcher {
  void (*kernel)(P...);
  dim3 grid, block;
  template <typename... A>
  void operator()(A&&... a) const {
    auto k = kernel;
    // Each emulated thread gets its own copy of the arguments, as kernels get them by value.
    std::function<void()> body = [k, args = std::make_tuple(P(std::forward<A>(a))...)]() {
      std::apply([k](auto... v) { k(v...); }, args);
    };
    run_grid(grid, block, reinterpret_cast<const void*>(kernel), body);
  }
};

template <typename... P>
Launcher<P...> launcher(dim3 grid, dim3 block, void (*kernel)(P...)) {
  return Launcher<P...>{kernel, grid, block};
}

}  // namespace mpf_emu

using mpf_emu::blockDim;
using mpf_emu::blockIdx;
using mpf_emu::gridDim;
using mpf_emu::threadIdx;
inline void __syncthreads() { mpf_emu::syncthreads(); }

#define MPF_LAUNCH(grid, block, ...) ::mpf_emu::launcher(dim3(grid), dim3(block), __VA_ARGS__)
