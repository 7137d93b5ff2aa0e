// Vector kernels of upsample_tail's composed convolution (instantiations of
// cpu/simd/upsample_tail.h), one file per instruction set, entered only after checking simd_level().
#pragma once
#include <cstdint>

#include "cpu/simd/upsample_tail.h"

namespace mpf::cpu {

// Outputs per group: 12 accumulators a vector of pixels wide (AVX2: 12 of its 16 registers) or
// two (AVX-512, NEON: 24 of 32). MPF-Net's x2 and x4 tails have exactly 12 (3 colours × 2²).
constexpr int kComposedGroup = 6;

void composed_conv_row_avx2(const simd::ComposedConvRow& a, int64_t row);
void composed_conv_row_avx512(const simd::ComposedConvRow& a, int64_t row);
void composed_conv_row_neon(const simd::ComposedConvRow& a, int64_t row);

}  // namespace mpf::cpu
