#include "cpu/cr_samples.h"

#include <algorithm>
#include <vector>

#include "common/random.h"
#include "common/thread_pool.h"
#include "cpu/degrade.h"

namespace mpf::cpu {
namespace {

// Rows per task: enough work per task, while one sample still spreads over the threads.
constexpr int64_t kRowBlock = 16;

}  // namespace

template <typename T>
void cr_samples(const T* x, const T* k, T* y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t m, int64_t kh, int64_t kw,
                const int64_t* source, const int64_t* keep, const double* factor, const double* sigma, uint64_t seed, uint64_t offset,
                bool clip) {
  (void)n;
  const int64_t pa = kh / 2, pb = kw / 2, pw = w + kw - 1;
  const int64_t blocks = (h + kRowBlock - 1) / kRowBlock;
  parallel_tasks(m * c * blocks, [&](int64_t task) {
    const int64_t plane = task / blocks;  // m * c + channel
    const int64_t sample = plane / c, ch = plane % c;
    const int64_t r0 = (task % blocks) * kRowBlock, r1 = std::min(h, r0 + kRowBlock);
    const T* src = x + (source[sample] * c + ch) * h * w;
    const T* ker = k + sample * kh * kw;
    T* dst = y + plane * h * w;
    const T f = T(factor[sample]);
    const int64_t kb = keep[sample];
    const double sg = sigma[sample];
    // The reflect-padded rows this block reads, then each D row from them (as in filter2d).
    const int64_t prows = r1 - r0 + kh - 1;
    std::vector<T> pad(static_cast<size_t>(prows * pw));
    std::vector<T> acc(static_cast<size_t>(w));
    reflect_pad_rows(src, h, w, r0 - pa, prows, pb, pw, pad.data());
    for (int64_t i = r0; i < r1; ++i) {
      const T* a = acc.data();
      filter_row(pad.data() + (i - r0) * pw, pw, ker, kh, kw, w, acc.data());
      const T* xr = src + i * w;
      T* yr = dst + i * w;
      // D = x within kb pixels of an edge (whole rows near the top and bottom, the first and
      // last kb columns otherwise).
      const bool edge_row = i < kb || i >= h - kb;
      for (int64_t j = 0; j < w; ++j) {
        const bool edge = edge_row || j < kb || j >= w - kb;
        const T d = edge ? xr[j] : a[j];
        yr[j] = d + f * (xr[j] - d);
      }
      if (sg > 0) {
        const uint64_t base = offset + uint64_t(plane * h * w + i * w);
        for (int64_t j = 0; j < w; ++j) yr[j] += T(sg * normal01(seed, base + uint64_t(j)));
      }
      if (clip)
        for (int64_t j = 0; j < w; ++j) yr[j] = yr[j] < T(0) ? T(0) : (yr[j] > T(1) ? T(1) : yr[j]);
    }
  });
}

#define MPF_CR_SAMPLES_INSTANTIATE(T)                                                                                       \
  template void cr_samples<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,       \
                              const int64_t*, const int64_t*, const double*, const double*, uint64_t, uint64_t, bool);
MPF_CR_SAMPLES_INSTANTIATE(float)
MPF_CR_SAMPLES_INSTANTIATE(double)

}  // namespace mpf::cpu
