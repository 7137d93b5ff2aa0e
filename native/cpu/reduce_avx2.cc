// AVX2 row sum for cpu/reduce.cc. Compiled with -mavx2 -mfma; entered only when simd_level() >= AVX2.
#include <immintrin.h>

#include <algorithm>

#include "cpu/reduce_simd.h"

namespace mpf::cpu {

double sum_f32_avx2(const float* p, int64_t n) {
  // 4 independent vector chains hide the add latency; each block of 512 keeps float32's
  // accumulation error small before the block goes to double.
  constexpr int64_t kBlock = 512;
  double total = 0;
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t i1 = std::min(n, i0 + kBlock);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = i0;
    for (; i + 32 <= i1; i += 32) {
      a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
      a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
      a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16));
      a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
    }
    for (; i + 8 <= i1; i += 8) a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
    const __m256 a = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    float s = _mm_cvtss_f32(h);
    for (; i < i1; ++i) s += p[i];
    total += double(s);
  }
  return total;
}

}  // namespace mpf::cpu
