// Implicit-GEMM packing of conv2d inputs over a vector type V (cpu/simd/vec.h), instantiated by
// conv2d_avx2.cc, conv2d_avx512.cc, conv2d_neon.cc. The bounds tables come from conv2d_gemm.cc
// (see ColPanels in cpu/conv2d_impl.h).
#pragma once
#include <algorithm>
#include <cstdint>

#include "cpu/conv2d_impl.h"

namespace mpf::simd {

// im2col panels of NR = NV * W pixels: a panel row is NV vector stores; each run of pixels from one
// input row arrives by masked loads (masked-off lanes read as zero and are never touched) OR-ed
// into place (the runs of one panel cover disjoint lanes).
template <class V, int NV>
void pack_col_panels(const cpu::conv2d_detail::ColPanels& p) {
  constexpr int W = V::kWidth, NR = NV * W;
  static_assert(NR <= 32, "panel lanes are the bits of a uint32 mask");
  const int64_t kk_n = p.kh_n * p.kw_n;
  for (int64_t kk = 0; kk < p.kc; ++kk) {
    const int64_t k = p.k0 + kk, c = k / kk_n, r = k % kk_n, kh = r / p.kw_n, kw = r % p.kw_n;
    const uintptr_t plane = reinterpret_cast<uintptr_t>(p.plane0[c] + p.b * p.batch_stride[c]);
    // The same tap of the next channel (a plane far away: the hardware prefetchers do not follow
    // the jump), read kk_n rows later, is asked for now; 0 when the block ends before it.
    const intptr_t ahead = kk + kk_n < p.kc ? intptr_t(reinterpret_cast<uintptr_t>(p.plane0[c + 1] + p.b * p.batch_stride[c + 1]) - plane) : 0;
    float* d = p.dst + kk * NR;
    for (int64_t j = 0; j < p.panels; ++j, d += p.kc * NR) {
      typename V::F acc[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[v] = V::zero();
      for (int32_t si = p.seg_begin[j]; si < p.seg_begin[j + 1]; ++si) {
        // Branch-free: a padding row has row_off 0 and an all-zero row mask.
        const int64_t tr = si * p.kh_n + kh, t = si * p.kw_n + kw;
        const uint32_t m = p.mask[t] & p.row_mask[tr];
        // The address is formed in integers: it may lie outside the plane for masked-off lanes.
        const float* base = reinterpret_cast<const float*>(plane + uintptr_t((p.row_off[tr] + p.col_off[t]) * int64_t(sizeof(float))));
        if (ahead) {
          const float* next = reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(base) + uintptr_t(ahead));
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) V::prefetch(next + v * W);
        }
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[v] = V::or_bits(acc[v], V::load_masked(base + v * W, m >> (v * W)));
      }
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) V::store(d + v * W, acc[v]);
    }
  }
}

// out[t] = col(plane, tap)[pixel (oh, ow) + t] for t < count (stride_w 1): masked loads cover the
// lanes whose source lies inside the image, the rest are padding (zero).
template <class V>
void col_run(const cpu::conv2d_detail::ColRun& r, int64_t oh, int64_t ow, int64_t count, float* out) {
  constexpr int W = V::kWidth;
  while (count > 0) {
    const int64_t run = std::min(count, r.ow_n - ow);
    const int64_t ih = oh * r.sh + r.offh;
    const int64_t iw0 = ow + r.offw;
    const bool row_ok = ih >= 0 && ih < r.h;
    const int64_t lo = row_ok ? std::clamp<int64_t>(-iw0, 0, run) : run, hi = row_ok ? std::clamp<int64_t>(r.w - iw0, lo, run) : run;
    const uintptr_t src = reinterpret_cast<uintptr_t>(r.plane) + uintptr_t((ih * r.w + iw0) * int64_t(sizeof(float)));
    for (int64_t t0 = 0; t0 < run; t0 += W) {
      // Lanes t0 + i with lo <= t0 + i < hi read the image.
      const int64_t a = std::clamp<int64_t>(lo - t0, 0, W), e = std::clamp<int64_t>(hi - t0, 0, W);
      const uint32_t bits = uint32_t(((uint64_t(1) << e) - 1) & ~((uint64_t(1) << a) - 1));
      const auto v = V::load_masked(reinterpret_cast<const float*>(src + uintptr_t(t0 * int64_t(sizeof(float)))), bits);
      V::store_first(out + t0, int(std::min<int64_t>(run - t0, W)), v);
    }
    out += run;
    count -= run;
    ++oh;
    ow = 0;
  }
}

}  // namespace mpf::simd
