// The per-pixel normalised similarity of contrastive regularisation (docs/model.md §3, PCL's): features are
// L2-normalised along the channels at every pixel, multiplied and summed over the channels, and
// averaged over the pixels, giving one number per pair:
//
//   s[m] = 1/(H·W) Σ_p Σ_c â[i, c, p] · b̂[m, c, p],   i = index[m],
//   â[i, :, p] = a[i, :, p] / max(‖a[i, :, p]‖, eps)   (torch.nn.functional.normalize)
//
// a holds the anchors (N, C, H, W), b the samples (M, C, H, W), each compared with one anchor.
// Backward gives the gradient of Σ_m gs[m]·s[m] with respect to a and/or b; where a norm is clamped
// at eps the normalisation is a constant division (as in PyTorch's autograd of normalize).
#pragma once
#include <cstdint>

namespace mpf::cpu {

// a (n, c, hw), b (m, c, hw), index (m) in [0, n), s (m).
template <typename T>
void cr_similarity_forward(const T* a, const T* b, const int64_t* index, T* s, int64_t n, int64_t m, int64_t c, int64_t hw, double eps);

// ga (n, c, hw) or null; gb (m, c, hw) or null. Every element of what is asked for is written.
template <typename T>
void cr_similarity_backward(const T* a, const T* b, const int64_t* index, const T* gs, T* ga, T* gb, int64_t n, int64_t m, int64_t c,
                            int64_t hw, double eps);

}  // namespace mpf::cpu
