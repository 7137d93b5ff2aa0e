// The float32 row sum (cpu/simd/reduce.h) for aarch64 NEON. Compiled on aarch64 only.
#include "cpu/reduce_simd.h"
#include "cpu/simd/reduce.h"
#include "cpu/simd/vec_neon.h"

namespace mpf::cpu {

double sum_f32_neon(const float* p, int64_t n) { return simd::sum_f32<simd::VecNeon>(p, n); }

}  // namespace mpf::cpu
