// Reflect-101 border indexing (OpenCV's BORDER_REFLECT_101, numpy's 'reflect'): -1 -> 1, n -> n-2.
// One definition for the CPU degradation / CR-sample filters and their CUDA kernels.
#pragma once
#include <cstdint>

#include "common/unary_math.h"  // MPF_HD

namespace mpf {

// Reflect-101 index of i into [0, n).
MPF_HD int64_t reflect_index(int64_t i, int64_t n) {
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  int64_t m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

}  // namespace mpf
