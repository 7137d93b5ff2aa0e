// SGEMM kernels for aarch64 NEON: simd/gemm.h over VecNeon, tiles of 6 x 16 (24 of the 32 q
// registers as accumulators, 4 B vectors, one broadcast). Compiled only on aarch64.
#include "cpu/simd/gemm.h"
#include "cpu/simd/vec_neon.h"

namespace mpf::cpu::gemm_detail {

const SgemmKernels& kernels_neon() {
  static const SgemmKernels k = simd::gemm::make_kernels<simd::VecNeon, 4, 6, false>();
  return k;
}

}  // namespace mpf::cpu::gemm_detail
