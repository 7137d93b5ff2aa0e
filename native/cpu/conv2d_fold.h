// A convolution weight with per-input-channel scales folded in: conv(x · s, w) = conv(x, w · s) for
// s one number per input channel (zero padding scales too). MPF-Net's inference passes each
// squeeze-excitation on this way instead of scaling the map (lib/models/mpfnet/cpb.ts).
#pragma once
#include <cstdint>

namespace mpf::cpu {

// out[o][i][k] = w[o][i][k] · s[i] for w (out_channels, in_channels, taps); on the calling thread
// (a 52 × 104 × 3 × 3 weight is 49k multiplies).
template <typename T>
void conv2d_fold_input_scales(const T* w, const T* s, T* out, int64_t out_channels, int64_t in_channels, int64_t taps);

}  // namespace mpf::cpu
