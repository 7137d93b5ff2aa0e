// The exp-based unary forwards (cpu/simd/unary.h) for AVX-512 (compiled with -mavx512f/dq/bw/vl; entered only when simd_level() is AVX512).
#include "cpu/simd/unary.h"
#include "cpu/simd/vec_avx512.h"
#include "cpu/unary_simd.h"

namespace mpf::cpu {

void unary_forward_avx512(UnaryOp op, const float* x, float* y, int64_t n) { simd::unary_forward<simd::VecAvx512>(op, x, y, n); }

}  // namespace mpf::cpu
