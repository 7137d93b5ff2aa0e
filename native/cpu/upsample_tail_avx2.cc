// upsample_tail's composed convolution (cpu/simd/upsample_tail.h) for AVX2 + FMA, one vector of 8 pixels per block
// (compiled with -mavx2 -mfma; entered only when simd_level() >= AVX2).
#include "cpu/simd/vec_avx2.h"
#include "cpu/upsample_tail_simd.h"

namespace mpf::cpu {

void composed_conv_row_avx2(const simd::ComposedConvRow& a, int64_t row) { simd::composed_conv_row<simd::VecAvx2, 2, kComposedGroup>(a, row); }

}  // namespace mpf::cpu
