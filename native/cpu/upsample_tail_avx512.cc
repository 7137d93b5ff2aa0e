// upsample_tail's composed convolution (cpu/simd/upsample_tail.h) for AVX-512, two vectors of 16 pixels per block
// (compiled with -mavx512f/dq/bw/vl; entered only when simd_level() is AVX512).
#include "cpu/simd/vec_avx512.h"
#include "cpu/upsample_tail_simd.h"

namespace mpf::cpu {

void composed_conv_row_avx512(const simd::ComposedConvRow& a, int64_t row) { simd::composed_conv_row<simd::VecAvx512, 4, kComposedGroup>(a, row); }

}  // namespace mpf::cpu
