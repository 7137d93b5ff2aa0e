// Device dispatch for bindings. The CPU kernels are always here; CUDA kernels live in the plugin
// (native/cuda, loaded by cuda_plugin.cc on first use). A binding validates its arguments, calls
// require_device() before allocating, then runs
//   if (dev == Device::CUDA) cuda_call(op, cuda_api(op).x(...)); else cpu::x(...);
#pragma once
#include "common/errors.h"
#include "common/tensor.h"
#include "cuda/api.h"

namespace mpf {

// The CUDA plugin's function table, loaded and initialised on first use. Throws a TypeError
// "<op>: device 'cuda' is not available: <reason>" when CUDA cannot be used here.
const MpfCudaApi& cuda_api(const char* op);

// Turns a plugin error into an exception naming op: RangeError for out-of-memory (as on the CPU),
// Error otherwise. Does nothing for nullptr (success).
void cuda_call(const char* op, MpfErr err);

// Nothing for the CPU; for CUDA, makes sure the plugin is there (so the op's error names it).
inline void require_device(const char* op, Device dev) {
  if (dev == Device::CUDA) cuda_api(op);
}

// The ABI's dtype id.
inline int32_t cuda_dtype(DType d) { return d == DType::F32 ? MPF_F32 : MPF_F64; }

// A tensor's device pointer, for plugin calls (null for a null tensor).
inline void* dptr(const TensorRef& t) { return t ? t->storage->data : nullptr; }

}  // namespace mpf
