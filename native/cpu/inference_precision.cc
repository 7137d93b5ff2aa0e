// The calling thread's inference precision, and the run-time check for the bf16 kernels.
#include "cpu/inference_precision.h"

#include <cstring>
#include <initializer_list>

#include "common/cpu_features.h"

namespace mpf::cpu {
namespace {

thread_local InferencePrecision t_precision = InferencePrecision::Strict;

#if defined(MPF_X86)
bool cpu_has_avx512bf16() {
  static const bool has = [] {
    __builtin_cpu_init();
    return bool(__builtin_cpu_supports("avx512bf16"));
  }();
  return has;
}
#endif

}  // namespace

InferencePrecision inference_precision() { return t_precision; }
void set_inference_precision(InferencePrecision p) { t_precision = p; }

const char* inference_precision_name(InferencePrecision p) {
  switch (p) {
    case InferencePrecision::Strict: return "strict";
    case InferencePrecision::Fp32: return "fp32";
    case InferencePrecision::Bf16: return "bf16";
  }
  return "?";
}

bool parse_inference_precision(const char* name, InferencePrecision* out) {
  for (InferencePrecision p : {InferencePrecision::Strict, InferencePrecision::Fp32, InferencePrecision::Bf16})
    if (!std::strcmp(name, inference_precision_name(p))) {
      *out = p;
      return true;
    }
  return false;
}

const bf16::Kernels* bf16_gemm_kernels() {
#if defined(MPF_X86)
  // The level is read each time: MPFNET_SIMD and set_simd_level may cap it below AVX-512.
  if (simd_level() == Simd::AVX512 && cpu_has_avx512bf16()) return &bf16::kernels_avx512bf16();
#endif
  return nullptr;
}

}  // namespace mpf::cpu
