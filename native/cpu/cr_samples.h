// Sample images for contrastive regularisation (lib/losses/samples.ts builds the positives and
// negatives of docs/model.md §3 with it). One call makes M samples from N source images:
//
//   y[m] = clip( D + f[m]·(x[s] − D) + σ[m]·z ),   D = k[m] ⊛ x[s],   s = source[m]
//
// with k[m] a per-sample odd-sized kernel (correlation, every channel alike). That one formula
// covers every generator: f > 1 sharpens (PCL's D + f·(x − D) with the 3×3 SMOOTH kernel, or an
// unsharp mask with a Gaussian D), f = 0 is a plain blur, σ > 0 adds Gaussian noise.
//
// Borders: D reads the image with reflect-101 borders (OpenCV's default, PyTorch's 'reflect',
// filter2d's), except within keep[m] pixels of an edge, where D = x: with keep = 1 and the 3×3
// SMOOTH kernel that is torchvision's adjust_sharpness and PIL's ImageEnhance.Sharpness, whose
// outermost rows and columns are not sharpened. A kernel smaller than the call's (kh, kw) arrives
// zero-padded; its zero taps are skipped.
//
// Noise draws from the counter-based generator (common/random.h): element e of the (M, C, H, W)
// output owns counter offset + e, so results do not depend on the thread count or on how a caller
// splits the samples over calls; the caller advances its generator by M·C·H·W. No gradient: the
// samples are constants of the loss.
#pragma once
#include <cstdint>

namespace mpf::cpu {

// x (n, c, h, w); k (m, kh, kw); y (m, c, h, w); source, keep, factor, sigma: m entries each.
template <typename T>
void cr_samples(const T* x, const T* k, T* y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t m, int64_t kh, int64_t kw,
                const int64_t* source, const int64_t* keep, const double* factor, const double* sigma, uint64_t seed, uint64_t offset,
                bool clip);

}  // namespace mpf::cpu
