// The fp32 peak loop (cpu/simd/peak.h) on VecAvx2 with 12 independent FMA chains.
#include "cpu/peak.h"
#include "cpu/simd/peak.h"
#include "cpu/simd/vec_avx2.h"

namespace mpf::cpu {

float peak_fp32_avx2(int64_t iters, double* flops_per_round) {
  *flops_per_round = 2.0 * 12 * simd::VecAvx2::kWidth;
  return simd::fma_rounds<simd::VecAvx2, 12>(iters);
}

}  // namespace mpf::cpu
