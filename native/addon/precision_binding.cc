// Binding of the calling thread's inference precision (cpu/inference_precision.h): the forward
// pass of 3x3 stride-1 convolutions on the thread that calls the op (the JS main thread or a
// worker_thread) may round more in exchange for speed. lib/infer/precision.ts wraps it.
#include "addon/args.h"
#include "addon/registry.h"
#include "common/errors.h"
#include "cpu/inference_precision.h"

namespace mpf {

// inferencePrecision(p?) -> the calling thread's precision before the call ('strict' | 'fp32' |
// 'bf16'); with p, sets it for this thread's later forward passes.
MPF_BINDING(inferencePrecision) {
  Args a(info, "inferencePrecision");
  const cpu::InferencePrecision before = cpu::inference_precision();
  if (!a.is_nullish(0)) {
    const std::string name = a.string(0, "precision");
    cpu::InferencePrecision p;
    if (!cpu::parse_inference_precision(name.c_str(), &p))
      throw_range("inferencePrecision: 'precision' must be strict, fp32 or bf16, got '", name, "'");
    cpu::set_inference_precision(p);
  }
  return Napi::String::New(info.Env(), cpu::inference_precision_name(before));
}

// bf16Available() -> whether 'bf16' runs bf16 kernels here (AVX512_BF16 and a SIMD level of
// AVX-512); otherwise it runs as 'fp32'.
MPF_BINDING(bf16Available) { return Napi::Boolean::New(info.Env(), cpu::bf16_gemm_kernels() != nullptr); }

}  // namespace mpf
