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

namespace mpf::cpu {

// Reflect-101 index of i into [0, n).
inline int64_t reflect_index(int64_t i, int64_t n) {
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  int64_t m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
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
