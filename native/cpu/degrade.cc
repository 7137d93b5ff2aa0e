#include "cpu/degrade.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/random.h"
#include "common/thread_pool.h"

namespace mpf::cpu {
namespace {

// Rows per filter2d task: enough work per task, while a single image still spreads over threads.
constexpr int64_t kRowBlock = 16;

// The per-element generator key (the same mixing as uniform01's), so a Poisson draw may use as
// many uniforms as it needs without touching its neighbours' counters.
inline uint64_t element_key(uint64_t seed, uint64_t counter) { return mix64(mix64(seed) + counter * 0x9e3779b97f4a7c15ULL); }

template <typename T>
inline T clip01(T v) {
  return v < T(0) ? T(0) : (v > T(1) ? T(1) : v);
}

}  // namespace

template <typename T>
void filter2d_forward(const T* x, const T* k, T* y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t kn, int64_t kh, int64_t kw) {
  const int64_t pa = kh / 2, pb = kw / 2, pw = w + kw - 1;
  const int64_t blocks = (h + kRowBlock - 1) / kRowBlock;
  parallel_tasks(n * c * blocks, [&](int64_t task) {
    const int64_t plane = task / blocks, r0 = (task % blocks) * kRowBlock, r1 = std::min(h, r0 + kRowBlock);
    const T* src = x + plane * h * w;
    const T* ker = k + (kn == 1 ? 0 : plane / c) * kh * kw;
    T* dst = y + plane * h * w;
    // The padded rows this block reads, then each output row from them.
    const int64_t prows = r1 - r0 + kh - 1;
    std::vector<T> pad(static_cast<size_t>(prows * pw));
    reflect_pad_rows(src, h, w, r0 - pa, prows, pb, pw, pad.data());
    for (int64_t i = r0; i < r1; ++i) filter_row(pad.data() + (i - r0) * pw, pw, ker, kh, kw, w, dst + i * w);
  });
}

template <typename T>
void filter2d_backward(const T* gy, const T* k, T* gx, int64_t n, int64_t c, int64_t h, int64_t w, int64_t kn, int64_t kh, int64_t kw) {
  const int64_t pa = kh / 2, pb = kw / 2, ph = h + kh - 1, pw = w + kw - 1;
  parallel_tasks(n * c, [&](int64_t plane) {
    const T* g = gy + plane * h * w;
    const T* ker = k + (kn == 1 ? 0 : plane / c) * kh * kw;
    T* out = gx + plane * h * w;
    // Scatter into the padded plane, then fold the padding back onto the pixels it mirrored.
    std::vector<T> pad(size_t(ph * pw), T(0));
    for (int64_t i = 0; i < h; ++i) {
      const T* grow = g + i * w;
      for (int64_t u = 0; u < kh; ++u) {
        T* prow = pad.data() + (i + u) * pw;
        for (int64_t v = 0; v < kw; ++v) {
          const T kv = ker[u * kw + v];
          T* p = prow + v;
          for (int64_t j = 0; j < w; ++j) p[j] += kv * grow[j];
        }
      }
    }
    std::fill(out, out + h * w, T(0));
    for (int64_t pr = 0; pr < ph; ++pr) {
      T* orow = out + reflect_index(pr - pa, h) * w;
      const T* prow = pad.data() + pr * pw;
      for (int64_t pc = 0; pc < pw; ++pc) orow[reflect_index(pc - pb, w)] += prow[pc];
    }
  });
}

template <typename T>
void gaussian_noise(const T* x, T* y, int64_t n, int64_t c, int64_t hw, const double* sigma, const uint8_t* grey, uint64_t seed, uint64_t offset, bool clip) {
  const int64_t total = n * c * hw;
  parallel_for(total, 4096, [&](int64_t b, int64_t e) {
    for (int64_t idx = b; idx < e; ++idx) {
      const int64_t img = idx / (c * hw), p = idx % hw;
      const int64_t counter = grey[img] ? img * c * hw + p : idx;
      T v = x[idx] + T(sigma[img] * normal01(seed, offset + uint64_t(counter)));
      y[idx] = clip ? clip01(v) : v;
    }
  });
}

int64_t poisson_draw(double lambda, uint64_t key) {
  if (!(lambda > 0)) return 0;
  uint64_t j = 0;
  if (lambda < 10) {
    // Count uniforms until their product falls below e^-lambda.
    const double limit = std::exp(-lambda);
    double prod = uniform01(key, j++);
    int64_t count = 0;
    while (prod > limit) {
      prod *= uniform01(key, j++);
      ++count;
    }
    return count;
  }
  // Hörmann (1993), "The transformed rejection method for generating Poisson random variables",
  // algorithm PTRS: a transformed-rejection draw with a cheap squeeze, exact for every lambda >= 10.
  const double slam = std::sqrt(lambda), loglam = std::log(lambda);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = uniform01(key, j++) - 0.5;
    const double v = uniform01(key, j++);
    const double us = 0.5 - std::fabs(u);
    const double kd = std::floor((2 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return int64_t(kd);
    if (kd < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <= -lambda + kd * loglam - std::lgamma(kd + 1)) return int64_t(kd);
  }
}

template <typename T>
void poisson_noise(const T* x, T* y, int64_t n, int64_t c, int64_t hw, const double* scale, const uint8_t* grey, uint64_t seed, uint64_t offset, bool clip) {
  for (int64_t img = 0; img < n; ++img) {
    const T* xi = x + img * c * hw;
    T* yi = y + img * c * hw;
    const bool g = grey[img] != 0;
    const int64_t planes = g ? 1 : c;
    // The 8-bit image the noise is drawn on (Y for grey noise).
    std::vector<uint8_t> q(size_t(planes * hw));
    parallel_for(planes * hw, 8192, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        double v;
        if (g && c == 3) v = 0.299 * double(xi[i]) + 0.587 * double(xi[hw + i]) + 0.114 * double(xi[2 * hw + i]);
        else v = double(xi[i]);
        const double r = std::nearbyint(v * 255.0);
        q[size_t(i)] = uint8_t(r < 0 ? 0 : (r > 255 ? 255 : r));
      }
    });
    bool seen[256] = {};
    int distinct = 0;
    for (uint8_t v : q)
      if (!seen[v]) seen[v] = true, ++distinct;
    const double vals = std::exp2(std::ceil(std::log2(double(distinct))));
    const double s = scale[img];
    const uint64_t base = offset + uint64_t(img * c * hw);
    parallel_for(planes * hw, 2048, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const double qi = double(q[size_t(i)]) / 255.0;
        const double noise = s * (double(poisson_draw(qi * vals, element_key(seed, base + uint64_t(i)))) / vals - qi);
        if (g) {
          for (int64_t ch = 0; ch < c; ++ch) {
            const T v = xi[ch * hw + i] + T(noise);
            yi[ch * hw + i] = clip ? clip01(v) : v;
          }
        } else {
          const T v = xi[i] + T(noise);
          yi[i] = clip ? clip01(v) : v;
        }
      }
    });
  }
}

#define MPF_DEGRADE_INSTANTIATE(T)                                                                                                   \
  template void filter2d_forward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);         \
  template void filter2d_backward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);        \
  template void gaussian_noise<T>(const T*, T*, int64_t, int64_t, int64_t, const double*, const uint8_t*, uint64_t, uint64_t, bool); \
  template void poisson_noise<T>(const T*, T*, int64_t, int64_t, int64_t, const double*, const uint8_t*, uint64_t, uint64_t, bool);
MPF_DEGRADE_INSTANTIATE(float)
MPF_DEGRADE_INSTANTIATE(double)

}  // namespace mpf::cpu
