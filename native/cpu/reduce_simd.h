// Vector kernels of the reductions (instantiations of cpu/simd/reduce.h), entered only after checking simd_level(). The plain row sum in
// AVX2 reaches the L2 bandwidth (~100 GB/s per core against ~57 for the compiler's SSE2 loop);
// AVX-512 measured no faster, so AVX2 serves both levels.
#pragma once
#include <cstdint>

namespace mpf::cpu {

// sum of p[0..n) in blocks of float vector accumulators, blocks added in double.
double sum_f32_avx2(const float* p, int64_t n);
double sum_f32_neon(const float* p, int64_t n);

}  // namespace mpf::cpu
