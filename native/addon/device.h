// Device dispatch for bindings. The CPU kernels are always here; until a CUDA plugin is loaded,
// an op asked to run on 'cuda' fails with a TypeError that says why.
#pragma once
#include "common/errors.h"
#include "common/tensor.h"

namespace mpf {

inline void require_cpu(const char* op, Device dev) {
  if (dev != Device::CPU) throw_type(op, ": device 'cuda' is not available in this build (CPU only)");
}

}  // namespace mpf
