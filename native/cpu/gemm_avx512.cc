// SGEMM kernels for AVX-512: simd/gemm.h over VecAvx512, tiles of 14 x 32 (28 zmm accumulators,
// room for two B vectors and a broadcast). The C tile is prefetched during the loop. Entered only
// when simd_level() says AVX512.
#include "cpu/simd/gemm.h"
#include "cpu/simd/vec_avx512.h"

namespace mpf::cpu::gemm_detail {

const SgemmKernels& kernels_avx512() {
  static const SgemmKernels k = simd::gemm::make_kernels<simd::VecAvx512, 2, kMaxMR, true>();
  return k;
}

// 14 x 16 tiles for narrow panels (narrow_kernels_for): up to 14 independent accumulators,
// more than the 2 FMA pipes x 4 cycles of latency need.
const SgemmKernels& kernels_avx512_narrow() {
  static const SgemmKernels k = simd::gemm::make_kernels<simd::VecAvx512, 1, kMaxMR, true>();
  return k;
}

}  // namespace mpf::cpu::gemm_detail
