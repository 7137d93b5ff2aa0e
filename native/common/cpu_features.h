// Run-time choice of vector instructions. Kernels compiled with AVX2 / AVX-512 flags live in
// files named *_avx2.cc / *_avx512.cc and are called only when simd_level() allows it.
// MPFNET_SIMD=scalar|avx2|avx512 caps the level (tests use it to cover every path).
#pragma once

namespace mpf {

enum class Simd : int { Scalar = 0, AVX2 = 1, AVX512 = 2 };

Simd simd_level();
void set_simd_level(Simd cap);  // caps at what the CPU supports
const char* simd_name(Simd s);

}  // namespace mpf
