// SGEMM kernels for AVX2 + FMA: simd/gemm.h over VecAvx2, tiles of 6 x 16 (12 ymm accumulators
// cover two FMA pipes x 4-cycle latency). Entered only when simd_level() says AVX2.
#include "cpu/simd/gemm.h"
#include "cpu/simd/vec_avx2.h"

namespace mpf::cpu::gemm_detail {

const SgemmKernels& kernels_avx2() {
  static const SgemmKernels k = simd::gemm::make_kernels<simd::VecAvx2, 2, 6, false>();
  return k;
}

}  // namespace mpf::cpu::gemm_detail
