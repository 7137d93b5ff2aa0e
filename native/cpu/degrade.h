// Degradations that turn HR training images into realistic LR ones (lib/data/degrade.ts drives
// them): a 2-D filter with one kernel per image (blur), and additive Gaussian and Poisson noise.
//
// filter2d is a correlation of every channel of image n with kernel n, with reflect-101 borders
// (OpenCV's BORDER_REFLECT_101, PyTorch's 'reflect': ... 2 1 | 0 1 2 ... n-1 | n-2 ...), so the
// output has the input's size; kernels have odd sizes, their centre is the middle tap. Borders
// fold as often as needed, so a kernel may be larger than the image.
//
// The noise kernels draw from the counter-based generator (common/random.h): element e of the
// (N, C, H, W) input owns counter offset + e (grey noise: the counters of channel 0, shared by the
// channels), so results do not depend on the thread count and the caller advances its generator
// by N·C·H·W. They follow Real-ESRGAN's formulas: Gaussian y = x + σ·z; Poisson rounds the image
// to 8 bits, takes v = 2^ceil(log2(#distinct values)), y = x + scale·(Poisson(v·x)/v − x). Grey
// noise is computed once per pixel (on Y = 0.299 R + 0.587 G + 0.114 B for Poisson) and added to
// every channel. With clip the result is clamped to [0, 1].
#pragma once
#include <cstdint>

#include "common/reflect.h"  // reflect_index

namespace mpf::cpu {

// Rows first .. first+rows-1 of an (h, w) plane, reflect-101 padded to pw columns (pb on the left,
// pw - w - pb on the right), into pad (rows × pw); row indices outside [0, h) reflect too.
template <typename T>
inline void reflect_pad_rows(const T* src, int64_t h, int64_t w, int64_t first, int64_t rows, int64_t pb, int64_t pw, T* pad) {
  for (int64_t pr = 0; pr < rows; ++pr) {
    const T* row = src + reflect_index(first + pr, h) * w;
    T* out = pad + pr * pw;
    for (int64_t j = 0; j < pb; ++j) out[j] = row[reflect_index(j - pb, w)];
    for (int64_t j = 0; j < w; ++j) out[pb + j] = row[j];
    for (int64_t j = pb + w; j < pw; ++j) out[j] = row[reflect_index(j - pb, w)];
  }
}

// One output row of a kh×kw filter: acc[j] = Σ_uv ker[u,v]·pad[u][j+v] over kh padded rows of
// stride pw. A sum of shifted row axpys (contiguous inner loops the compiler vectorises); zero taps
// are skipped (smaller kernels arrive zero-padded to the call's size).
template <typename T>
inline void filter_row(const T* pad, int64_t pw, const T* ker, int64_t kh, int64_t kw, int64_t w, T* acc) {
  for (int64_t j = 0; j < w; ++j) acc[j] = T(0);
  for (int64_t u = 0; u < kh; ++u) {
    const T* prow = pad + u * pw;
    for (int64_t v = 0; v < kw; ++v) {
      const T kv = ker[u * kw + v];
      if (kv == T(0)) continue;
      const T* p = prow + v;
      for (int64_t j = 0; j < w; ++j) acc[j] += kv * p[j];
    }
  }
}

// x, y: (n, c, h, w); k: (kn, kh, kw) with kn == n, or kn == 1 for one kernel for all images.
template <typename T>
void filter2d_forward(const T* x, const T* k, T* y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t kn, int64_t kh, int64_t kw);
// The adjoint with respect to x: gx = filter2d_forward^T(gy).
template <typename T>
void filter2d_backward(const T* gy, const T* k, T* gx, int64_t n, int64_t c, int64_t h, int64_t w, int64_t kn, int64_t kh, int64_t kw);

// sigma[i] (in the image's units) and grey[i] per image i.
template <typename T>
void gaussian_noise(const T* x, T* y, int64_t n, int64_t c, int64_t hw, const double* sigma, const uint8_t* grey, uint64_t seed, uint64_t offset, bool clip);
// grey needs c == 1 or c == 3.
template <typename T>
void poisson_noise(const T* x, T* y, int64_t n, int64_t c, int64_t hw, const double* scale, const uint8_t* grey, uint64_t seed, uint64_t offset, bool clip);

// One Poisson(lambda) draw from the uniforms uniform01(key, 0), uniform01(key, 1), ...
// (multiplication method below lambda 10, Hörmann's transformed rejection PTRS above).
int64_t poisson_draw(double lambda, uint64_t key);

}  // namespace mpf::cpu
