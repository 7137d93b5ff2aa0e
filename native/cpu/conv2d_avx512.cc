// im2col panel packing for AVX-512 (compiled with -mavx512*; entered only when simd_level() says
// so). A 32-pixel panel row is two zmm stores; each run of pixels from one input row arrives by
// merge-masked loads, the mask covering the lanes whose source lies inside the image (padding
// lanes stay zero, and masked-off lanes are never read).
#include <immintrin.h>

#include <algorithm>

#include "cpu/conv2d_impl.h"

namespace mpf::cpu::conv2d_detail {

void pack_col_panels_avx512(const ColPanels& p) {
  constexpr int kNR = 32;
  const int64_t kk_n = p.kh_n * p.kw_n;
  for (int64_t kk = 0; kk < p.kc; ++kk) {
    const int64_t k = p.k0 + kk, c = k / kk_n, r = k % kk_n, kh = r / p.kw_n, kw = r % p.kw_n;
    const uintptr_t plane = reinterpret_cast<uintptr_t>(p.plane0[c] + p.b * p.batch_stride[c]);
    float* d = p.dst + kk * kNR;
    for (int64_t j = 0; j < p.panels; ++j, d += p.kc * kNR) {
      __m512 v0 = _mm512_setzero_ps(), v1 = _mm512_setzero_ps();
      for (int32_t si = p.seg_begin[j]; si < p.seg_begin[j + 1]; ++si) {
        // Branch-free: a padding row has row_off 0 and an all-zero row mask.
        const int64_t tr = si * p.kh_n + kh, t = si * p.kw_n + kw;
        const uint32_t m = p.mask[t] & p.row_mask[tr];
        // Lane i reads column col_off + i of the row; the address is formed in integers because it
        // may lie outside the plane for lanes the mask excludes (those are never read).
        const float* base = reinterpret_cast<const float*>(plane + uintptr_t((p.row_off[tr] + p.col_off[t]) * int64_t(sizeof(float))));
        v0 = _mm512_or_ps(v0, _mm512_maskz_loadu_ps(__mmask16(m & 0xFFFF), base));
        v1 = _mm512_or_ps(v1, _mm512_maskz_loadu_ps(__mmask16(m >> 16), base + 16));
      }
      _mm512_store_ps(d, v0);
      _mm512_store_ps(d + 16, v1);
    }
  }
}

void col_run_avx512(const ColRun& r, int64_t oh, int64_t ow, int64_t count, float* out) {
  while (count > 0) {
    const int64_t run = std::min(count, r.ow_n - ow);
    const int64_t ih = oh * r.sh + r.offh;
    const int64_t iw0 = ow + r.offw;
    const bool row_ok = ih >= 0 && ih < r.h;
    const int64_t lo = row_ok ? std::clamp<int64_t>(-iw0, 0, run) : run, hi = row_ok ? std::clamp<int64_t>(r.w - iw0, lo, run) : run;
    const uintptr_t src = reinterpret_cast<uintptr_t>(r.plane) + uintptr_t((ih * r.w + iw0) * int64_t(sizeof(float)));
    for (int64_t t0 = 0; t0 < run; t0 += 16) {
      // Lanes t0 + i with lo <= t0 + i < hi read the image; the rest are padding (zero).
      const int64_t a = std::clamp<int64_t>(lo - t0, 0, 16), e = std::clamp<int64_t>(hi - t0, 0, 16);
      const __mmask16 load = __mmask16(((1u << e) - 1) & ~((1u << a) - 1));
      const __mmask16 store = __mmask16(run - t0 >= 16 ? 0xFFFF : (1u << (run - t0)) - 1);
      const __m512 v = _mm512_maskz_loadu_ps(load, reinterpret_cast<const float*>(src + uintptr_t(t0 * int64_t(sizeof(float)))));
      _mm512_mask_storeu_ps(out + t0, store, v);
    }
    out += run;
    count -= run;
    ++oh;
    ow = 0;
  }
}

}  // namespace mpf::cpu::conv2d_detail
