// Run-time choice of vector instructions. Kernels compiled with AVX2 / AVX-512 flags live in
// files named *_avx2.cc / *_avx512.cc and are called only when simd_level() allows it; on aarch64
// the *_neon.cc files (NEON is baseline there) serve level Neon. The kernels themselves are
// written once over a vector type (cpu/simd/vec.h).
// MPFNET_SIMD=scalar|avx2|avx512|neon caps the level (tests use it to cover every path); a level
// of the other architecture family is ignored.
#pragma once

namespace mpf {

// AVX2 < AVX512 are ordered (x86); Neon is aarch64's only level. Compare with ==, or use
// simd_is_x86() before ordering comparisons.
enum class Simd : int { Scalar = 0, AVX2 = 1, AVX512 = 2, Neon = 3 };

Simd simd_level();
void set_simd_level(Simd cap);  // caps at what the CPU supports (other-family levels: no change)
const char* simd_name(Simd s);

}  // namespace mpf
