// The composed 5x5 convolution of upsample_tail (cpu/upsample_tail.h) for float32, over a vector
// type V (cpu/simd/vec.h): a direct convolution for few output channels (12 for x2 and x4, 27 for
// x3), one output row at a time. Instantiated by upsample_tail_{avx2,avx512,neon}.cc and, with the
// portable type, by upsample_tail.cc.
//
// Why direct: with 12 outputs a Winograd tile's transforms of 52 input channels would cost more than
// its products save, and the implicit GEMM ran at ~190 GFLOP/s (43% of this machine's peak) on
// these shapes. Here G outputs × NV vectors of pixels stay in registers as accumulators; each of the
// 25 taps of each input channel loads NV vectors of x once and multiplies them by G broadcast
// weights, so the FMAs outnumber the loads G to 1.
#pragma once
#include <algorithm>
#include <cstdint>

namespace mpf::simd {

struct ComposedConvRow {
  const float* x;        // one image: (in_channels, h, w)
  int64_t in_channels, h, w;
  const float* weights;  // one group of G outputs, packed [in_channel][5 x 5 tap][G]
  const float* bias;     // G values
  float* y;              // the group's first output plane (h x w); planes plane_stride apart
  int64_t plane_stride;
  int outputs;           // <= G: the group's real outputs (the rest have zero weights and are not stored)
};

// Output row `row` of the group: y[o][row][:] = bias[o] + sum over channels and taps of w · x, x
// zero outside the image.
template <class V, int NV, int G>
void composed_conv_row(const ComposedConvRow& a, int64_t row) {
  using F = typename V::F;
  constexpr int W = V::kWidth, B = NV * W;
  // A block's row segment where it reaches past the image's sides: B + 4 values at an offset of up
  // to 2, written in whole vectors.
  constexpr int kEdge = B + 2 * W + 8 - (B + 2 * W + 8) % W;
  float edge[kEdge];
  for (int64_t x0 = 0; x0 < a.w; x0 += B) {
    const bool interior = x0 >= 2 && x0 + B + 2 <= a.w;
    F acc[G][NV];
    for (int o = 0; o < G; ++o)
      for (int v = 0; v < NV; ++v) acc[o][v] = V::broadcast(a.bias + o);
    const float* wp = a.weights;
    for (int64_t c = 0; c < a.in_channels; ++c)
      for (int i = 0; i < 5; ++i, wp += 5 * G) {
        const int64_t yy = row + i - 2;
        if (yy < 0 || yy >= a.h) continue;
        const float* line = a.x + (c * a.h + yy) * a.w;
        const float* src = line + x0 - 2;
        if (!interior) {
          // Zeros, then the part of the segment [x0 - 2, x0 + B + 2) that lies in the image, in
          // vectors (a library memset or memcpy here would cost the accumulators: AVX code must
          // clear the registers' upper halves before calling one).
          const int64_t lo = std::max<int64_t>(0, x0 - 2), n = std::min<int64_t>(a.w, x0 + B + 2) - lo;
          for (int t = 0; t < kEdge; t += W) V::store(edge + t, V::zero());
          float* dst = edge + (lo - (x0 - 2));
          for (int64_t t = 0; t < n; t += W) V::store(dst + t, V::load_first(line + lo + t, int(std::min<int64_t>(W, n - t))));
          src = edge;
        }
        const float* wt = wp;
        // One tap at a time: unrolled across taps, the compiler runs out of registers (24 are accumulators).
#pragma GCC unroll 1
        for (int j = 0; j < 5; ++j, wt += G) {
          F xv[NV];
          for (int v = 0; v < NV; ++v) xv[v] = V::load(src + j + v * W);
          for (int o = 0; o < G; ++o) {
            const F wv = V::broadcast(wt + o);
            for (int v = 0; v < NV; ++v) acc[o][v] = V::fmadd(wv, xv[v], acc[o][v]);
          }
        }
      }
    const int64_t left = a.w - x0;
    for (int o = 0; o < a.outputs; ++o) {
      float* out = a.y + o * a.plane_stride + row * a.w + x0;
      for (int v = 0; v < NV; ++v) {
        const int64_t lanes = std::min<int64_t>(W, left - v * W);
        if (lanes == W) V::store(out + v * W, acc[o][v]);
        else if (lanes > 0) V::store_first(out + v * W, int(lanes), acc[o][v]);
      }
    }
  }
}

}  // namespace mpf::simd
