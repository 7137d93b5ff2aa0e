// The fp32 peak loop (cpu/simd/peak.h) on VecAvx512 with 16 independent FMA chains.
#include "cpu/peak.h"
#include "cpu/simd/peak.h"
#include "cpu/simd/vec_avx512.h"

namespace mpf::cpu {

float peak_fp32_avx512(int64_t iters, double* flops_per_round) {
  *flops_per_round = 2.0 * 16 * simd::VecAvx512::kWidth;
  return simd::fma_rounds<simd::VecAvx512, 16>(iters);
}

}  // namespace mpf::cpu
