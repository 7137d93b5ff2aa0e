// A counter-based generator: element i of a draw depends only on (seed, offset + i), so fills are
// parallel, reproducible on every machine and thread count, and the whole generator state is two
// integers (easy to checkpoint). The mixing function is SplitMix64's finaliser.
#pragma once
#include <cmath>
#include <cstdint>

#include "common/unary_math.h"  // MPF_HD: the CUDA plugin draws the same numbers (cuda/tensor.cu)

namespace mpf {

MPF_HD uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) with 53 random bits.
MPF_HD double uniform01(uint64_t seed, uint64_t counter) {
  uint64_t z = mix64(mix64(seed) + counter * 0x9e3779b97f4a7c15ULL);
  return double(z >> 11) * (1.0 / 9007199254740992.0);
}

// Standard normal by Box-Muller from counters 2i and 2i+1.
MPF_HD double normal01(uint64_t seed, uint64_t counter) {
  double u1 = uniform01(seed, 2 * counter);
  double u2 = uniform01(seed, 2 * counter + 1);
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace mpf
