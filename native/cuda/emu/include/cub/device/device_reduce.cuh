// CPU emulation of cub::DeviceReduce::Sum: a sequential sum (the real one is a tree).
#pragma once
#include <cstddef>
#include <functional>

// emu.cc: runs the step now, or records it while a graph is being captured.
cudaError_t mpf_emu_enqueue(std::function<void()> step);

namespace cub {
struct DeviceReduce {
  template <typename In, typename Out, typename N>
  static cudaError_t Sum(void* temp, size_t& temp_bytes, In in, Out* out, N n, cudaStream_t = nullptr) {
    if (!temp) {
      temp_bytes = 16;
      return cudaSuccess;
    }
    return mpf_emu_enqueue([=] {
      Out s = Out(0);
      for (N i = 0; i < n; ++i) s += in[i];
      *out = s;
    });
  }
};
}  // namespace cub
