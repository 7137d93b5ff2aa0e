// im2col panel packing for AVX2 (compiled with -mavx2; entered only when simd_level() says so).
// A 16-pixel panel row is two ymm stores; each run of pixels from one input row arrives by masked
// loads (masked-off lanes read as zero and are never touched) OR-ed into place. The bounds tables
// come from conv2d_gemm.cc (see ColPanels).
#include <immintrin.h>

#include "cpu/conv2d_impl.h"

namespace mpf::cpu::conv2d_detail {

void pack_col_panels_avx2(const ColPanels& p) {
  constexpr int kNR = 16;
  const __m256i bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  const int64_t kk_n = p.kh_n * p.kw_n;
  for (int64_t kk = 0; kk < p.kc; ++kk) {
    const int64_t k = p.k0 + kk, c = k / kk_n, r = k % kk_n, kh = r / p.kw_n, kw = r % p.kw_n;
    const uintptr_t plane = reinterpret_cast<uintptr_t>(p.plane0[c] + p.b * p.batch_stride[c]);
    float* d = p.dst + kk * kNR;
    for (int64_t j = 0; j < p.panels; ++j, d += p.kc * kNR) {
      __m256 v0 = _mm256_setzero_ps(), v1 = _mm256_setzero_ps();
      for (int32_t si = p.seg_begin[j]; si < p.seg_begin[j + 1]; ++si) {
        // Branch-free: a padding row has row_off 0 and an all-zero row mask.
        const int64_t tr = si * p.kh_n + kh, t = si * p.kw_n + kw;
        const uint32_t m = p.mask[t] & p.row_mask[tr];
        // Mask bits to lane masks: lane i is on when bit i is set.
        const __m256i m0 = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(int(m & 0xFF)), bits), bits);
        const __m256i m1 = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(int((m >> 8) & 0xFF)), bits), bits);
        // The address is formed in integers: it may lie outside the plane for masked-off lanes.
        const float* base = reinterpret_cast<const float*>(plane + uintptr_t((p.row_off[tr] + p.col_off[t]) * int64_t(sizeof(float))));
        v0 = _mm256_or_ps(v0, _mm256_maskload_ps(base, m0));
        v1 = _mm256_or_ps(v1, _mm256_maskload_ps(base + 8, m1));
      }
      _mm256_store_ps(d, v0);
      _mm256_store_ps(d + 8, v1);
    }
  }
}

}  // namespace mpf::cpu::conv2d_detail
