// The bf16 GEMM kernels of the Winograd forward (simd/gemm_bf16.h), compiled with -mavx512bf16
// (CMakeLists.txt: files named *_avx512bf16.cc); reached only through bf16_gemm_kernels(), which
// checks the CPU first (inference_precision.cc).
#include "cpu/simd/gemm_bf16.h"

namespace mpf::cpu::bf16 {

const Kernels& kernels_avx512bf16() {
  static constexpr Kernels k = simd::gemm_bf16::make_kernels<gemm_detail::kMaxMR>();
  return k;
}

}  // namespace mpf::cpu::bf16
