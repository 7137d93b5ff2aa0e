// The exp-based unary forwards (cpu/simd/unary.h) for AVX2 + FMA (compiled with -mavx2 -mfma; entered only when simd_level() >= AVX2).
#include "cpu/simd/unary.h"
#include "cpu/simd/vec_avx2.h"
#include "cpu/unary_simd.h"

namespace mpf::cpu {

void unary_forward_avx2(UnaryOp op, const float* x, float* y, int64_t n) { simd::unary_forward<simd::VecAvx2>(op, x, y, n); }

}  // namespace mpf::cpu
