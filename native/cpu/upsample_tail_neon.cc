// upsample_tail's composed convolution (cpu/simd/upsample_tail.h) for aarch64 NEON, two vectors of 4 pixels per block
// (compiled with aarch64 only; entered when simd_level() is Neon).
#include "cpu/simd/vec_neon.h"
#include "cpu/upsample_tail_simd.h"

namespace mpf::cpu {

void composed_conv_row_neon(const simd::ComposedConvRow& a, int64_t row) { simd::composed_conv_row<simd::VecNeon, 2, kComposedGroup>(a, row); }

}  // namespace mpf::cpu
