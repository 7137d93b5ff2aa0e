// conv3x3 -> pixel shuffle by r -> conv3x3 (both convolutions stride 1, zero padding 1), computed as
// one 5x5 convolution of the input followed by a pixel shuffle. MPF-Net's last upsampler stage and
// its tail are this chain with nothing in between (docs/model.md §1), and at inference the chain's
// middle is its most expensive part: for a 256² input at x4 the stage writes a 208-channel 512² map
// (218 MB) that the shuffle reads and writes again before the tail reads it. Composed, the work is
// a 52 -> 12 channel 5x5 convolution at 512² (docs/performance.md, "The upsampler's last stage and
// the tail as one convolution").
//
// Why it is exact: every output pixel (r·y + a, r·x + b) of the tail reads a 3x3 window of the
// shuffled map, which lies in pre-shuffle rows y-1..y+1 (and columns likewise); each of those
// pre-shuffle values reads a 3x3 window of x. So output sub-position (a, b) of channel o is a 5x5
// convolution of x with weights sum_c wt[o][c][tap] · wz[c·r² + p·r + q] shifted by the tap's
// pre-shuffle offset. The one difference is at the border: the tail pads the shuffled map with
// zeros, but the composed convolution would see there what the stage computes outside the image
// (its bias and the edge of x). That happens only on the output's outermost rows and columns; they
// are corrected afterwards by subtracting what the taps that fall outside contributed.
#pragma once
#include <cstdint>

namespace mpf::cpu {

struct UpsampleTailShape {
  int64_t batch = 1, in_channels = 1, h = 1, w = 1;  // x: (batch, in_channels, h, w)
  int64_t mid_channels = 1;  // channels after the shuffle: the stage has mid_channels · r² outputs
  int64_t out_channels = 1;  // the tail's outputs
  int64_t r = 2;             // >= 2
};

// out (batch, out_channels, r·h, r·w) = conv(pixel_shuffle(conv(x, wz, bz), r), wt, bt), where
// wz is (mid·r², in, 3, 3), wt (out, mid, 3, 3); bz and bt may be null (no bias).
template <typename T>
void upsample_tail_forward(const UpsampleTailShape& s, const T* x, const T* wz, const T* bz, const T* wt, const T* bt, T* out);

}  // namespace mpf::cpu
