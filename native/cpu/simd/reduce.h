// The float32 row sum over a vector type V (cpu/simd/vec.h), instantiated by reduce_avx2.cc and
// reduce_neon.cc. 4 independent vector chains hide the add latency; each block of 512 keeps
// float32's accumulation error small before the block goes to double.
#pragma once
#include <algorithm>
#include <cstdint>

namespace mpf::simd {

template <class V>
double sum_f32(const float* p, int64_t n) {
  constexpr int W = V::kWidth;
  constexpr int64_t kBlock = 512;
  double total = 0;
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t i1 = std::min(n, i0 + kBlock);
    typename V::F a0 = V::zero(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = i0;
    for (; i + 4 * W <= i1; i += 4 * W) {
      a0 = V::add(a0, V::load(p + i));
      a1 = V::add(a1, V::load(p + i + W));
      a2 = V::add(a2, V::load(p + i + 2 * W));
      a3 = V::add(a3, V::load(p + i + 3 * W));
    }
    for (; i + W <= i1; i += W) a0 = V::add(a0, V::load(p + i));
    float s = V::reduce_add(V::add(V::add(a0, a1), V::add(a2, a3)));
    for (; i < i1; ++i) s += p[i];
    total += double(s);
  }
  return total;
}

}  // namespace mpf::simd
