// The fp32 peak loop (cpu/simd/peak.h) on VecNeon with 16 independent FMA chains.
#include "cpu/peak.h"
#include "cpu/simd/peak.h"
#include "cpu/simd/vec_neon.h"

namespace mpf::cpu {

float peak_fp32_neon(int64_t iters, double* flops_per_round) {
  *flops_per_round = 2.0 * 16 * simd::VecNeon::kWidth;
  return simd::fma_rounds<simd::VecNeon, 16>(iters);
}

}  // namespace mpf::cpu
