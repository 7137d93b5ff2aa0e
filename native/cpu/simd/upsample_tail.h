// The composed 5x5 convolution of upsample_tail (cpu/upsample_tail.h) for float32, over a vector
// type V (cpu/simd/vec.h): a direct convolution for few output channels (12 for x2 and x4, 27 for
// x3), one output row at a time. Instantiated by upsample_tail_{avx2,avx512,neon}.cc and, with the
// portable type, by upsample_tail.cc.
//
// Why direct: with 12 outputs a Winograd tile's transforms of 52 input channels would cost more than
// its products save, and the implicit GEMM ran at ~190 GFLOP/s (43% of this machine's peak) on
// these shapes. Here G outputs × NV vectors of pixels stay in registers as accumulators; each of the
// 25 taps of each input channel loads NV vectors of x once and broadcasts G weights for G · NV FMAs
// (AVX-512: 4 loads and 6 broadcasts for 24 FMAs), ~74% of the core's peak at 512².
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
  float* edge;           // the calling thread's scratch: in_channels x 5 x kComposedEdgeRow floats
};

// Floats per padded row in ComposedConvRow::edge, for every instantiation (checked below). The
// caller owns the scratch: a std::vector here would be compiled with this ISA's flags, and the
// linker could hand that copy to baseline code (test/package.test.ts checks no such symbol exists).
constexpr int kComposedEdgeRow = 128;

// acc[o][v] += the taps of rows [i0, i1) of the 5x5 window of every channel, for NV vectors of
// pixels: row i of channel c starts at src + c · chan_stride + i · row_stride, two pixels left of
// the block. One loop nest without branches, so the accumulators stay in registers throughout.
template <class V, int NV, int G>
inline void composed_block(const float* src, int64_t row_stride, int64_t chan_stride, int64_t channels, int i0, int i1,
                           const float* weights, typename V::F (&acc)[G][NV]) {
  using F = typename V::F;
  constexpr int W = V::kWidth;
  for (int64_t c = 0; c < channels; ++c, src += chan_stride, weights += 25 * G)
    for (int i = i0; i < i1; ++i) {
      const float* s = src + i * row_stride;
      const float* wt = weights + i * 5 * G;
      for (int j = 0; j < 5; ++j, wt += G) {
        F xv[NV];
        for (int v = 0; v < NV; ++v) xv[v] = V::load(s + j + v * W);
        for (int o = 0; o < G; ++o) {
          const F wv = V::broadcast(wt + o);
          for (int v = 0; v < NV; ++v) acc[o][v] = V::fmadd(wv, xv[v], acc[o][v]);
        }
      }
    }
}

// Output row `row` of the group: y[o][row][:] = bias[o] + sum over channels and taps of w · x, x
// zero outside the image. Blocks of NV vectors of pixels; a block whose window reaches past the
// image's left or right side reads a zero-padded copy of its rows instead.
template <class V, int NV, int G>
void composed_conv_row(const ComposedConvRow& a, int64_t row) {
  using F = typename V::F;
  constexpr int W = V::kWidth, B = NV * W;
  // A padded row: the block's B + 4 pixels (two each side) at an offset of up to 2, in whole vectors.
  constexpr int kEdgeRow = kComposedEdgeRow;
  static_assert(B + 2 * W + 8 <= kEdgeRow, "a padded row must fit kComposedEdgeRow");
  const int i0 = int(std::max<int64_t>(0, 2 - row)), i1 = int(std::min<int64_t>(5, a.h + 2 - row));  // rows inside x
  for (int64_t x0 = 0; x0 < a.w; x0 += B) {
    F acc[G][NV];
    for (int o = 0; o < G; ++o)
      for (int v = 0; v < NV; ++v) acc[o][v] = V::broadcast(a.bias + o);
    if (x0 >= 2 && x0 + B + 2 <= a.w) {
      composed_block<V, NV, G>(a.x + (row - 2) * a.w + x0 - 2, a.w, a.h * a.w, a.in_channels, i0, i1, a.weights, acc);
    } else {
      // Zeros, then the part of each row's segment [x0 - 2, x0 + B + 2) that lies in the image, in
      // vectors (a library memset or memcpy would cost more here: AVX code clears the registers'
      // upper halves before calling one).
      const int64_t lo = std::max<int64_t>(0, x0 - 2), n = std::min<int64_t>(a.w, x0 + B + 2) - lo;
      for (int64_t c = 0; c < a.in_channels; ++c)
        for (int i = i0; i < i1; ++i) {
          float* dst = a.edge + (c * 5 + i) * kEdgeRow;
          for (int t = 0; t < kEdgeRow; t += W) V::store(dst + t, V::zero());
          const float* line = a.x + (c * a.h + row + i - 2) * a.w + lo;
          dst += lo - (x0 - 2);
          for (int64_t t = 0; t < n; t += W) V::store(dst + t, V::load_first(line + t, int(std::min<int64_t>(W, n - t))));
        }
      composed_block<V, NV, G>(a.edge, kEdgeRow, 5 * kEdgeRow, a.in_channels, i0, i1, a.weights, acc);
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
