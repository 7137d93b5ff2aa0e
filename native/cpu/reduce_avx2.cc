// The float32 row sum (cpu/simd/reduce.h) for AVX2, used by cpu/reduce.cc at AVX2 and AVX512
// (AVX-512 measured no faster). Compiled with -mavx2 -mfma; entered only when simd_level() >= AVX2.
#include "cpu/reduce_simd.h"
#include "cpu/simd/reduce.h"
#include "cpu/simd/vec_avx2.h"

namespace mpf::cpu {

double sum_f32_avx2(const float* p, int64_t n) { return simd::sum_f32<simd::VecAvx2>(p, n); }

}  // namespace mpf::cpu
