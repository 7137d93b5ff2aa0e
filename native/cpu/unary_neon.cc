// The exp-based unary forwards (cpu/simd/unary.h) for aarch64 NEON (compiled on aarch64 only; entered when simd_level() is Neon).
#include "cpu/simd/unary.h"
#include "cpu/simd/vec_neon.h"
#include "cpu/unary_simd.h"

namespace mpf::cpu {

void unary_forward_neon(UnaryOp op, const float* x, float* y, int64_t n) { simd::unary_forward<simd::VecNeon>(op, x, y, n); }

}  // namespace mpf::cpu
