// Per-instruction-set tile kernels of the Winograd convolution (driver: conv2d_winograd.cc).
// The jobs below are the interface; the kernels are written once, as templates over a GCC/Clang
// vector type of L lanes (one lane per tile), and instantiated in three translation units with
// their own compiler flags: conv2d_winograd.cc (portable, also float64), conv2d_winograd_avx2.cc,
// conv2d_winograd_avx512.cc (which also brings shuffle-based staging for the common case).
// The tile size m is 2, 4, 6 or 8 (a = m + 2 transform points per dimension).
//
// A block is a run of consecutive tiles (over images, tile rows, tile columns) given lanes
// 0, 1, ...; Seg describes the part of a block that lies in one tile row of one image.
// Data flow for one block: the input patches of each channel are staged lane-major
// (d[(r * a + k) * stride + lane] = patch element (r, k) of the lane's tile), transformed and
// written as GEMM B panels (v); the GEMMs (one per transform point xi) produce m(xi, row, lane);
// each output row's products are transformed back, staged (o[(i * m + j) * stride + lane]) and
// written into the output plane.
#pragma once
#include <algorithm>
#include <cstdint>
#include <numeric>

#include "cpu/conv2d.h"

namespace mpf::cpu::winograd {

struct Seg {
  int64_t n;      // image
  int64_t ty;     // tile row
  int64_t tx0;    // first tile column
  int64_t len;    // tiles
  int64_t lane0;  // lane of the first tile
};

// One input channel of a block: stage, transform, write V.
template <typename T>
struct InputJob {
  const Seg* segs;
  int nsegs;
  int64_t valid;          // lanes covered by segments ([0, valid)); lanes up to `lanes` become 0
  int64_t lanes;          // multiple of the kernels' lane width
  const T* plane;         // the channel in image 0; image n at plane + n * batch_stride
  const T* next_plane;    // the channel staged next (same batch stride), to prefetch; may be null
  int64_t batch_stride;
  int64_t h, w;           // plane size
  int64_t off_h, off_w;   // tile (ty, tx) reads rows from ty * m + off_h, columns from tx * m + off_w
  T* d;                   // staging: a * a rows of `stride` lanes
  int64_t stride;
  // Element (xi, lane) goes to v + xi * v_xi + (lane / nr) * v_panel + lane % nr.
  T* v;
  int64_t v_xi, v_panel;
  int nr;
};

// One output row (channel) of a block: transform the GEMM products back, add the bias, apply the
// activation, write.
template <typename T>
struct OutputJob {
  const Seg* segs;
  int nsegs;
  int64_t lanes;           // multiple of the lane width; only segment lanes are written
  const T* m;              // element (xi, lane) at m + xi * m_xi + lane
  int64_t m_xi;
  T bias;
  T* o;                    // staging: m * m rows of `stride` lanes
  int64_t stride;
  T* plane;                // output channel in image 0; image n at plane + n * batch_stride
  int64_t batch_stride;
  int64_t oh, ow;          // output plane size (tiles past it are cut)
  // Applied to the staged values (biased, before they are written): the fused activation.
  Conv2dActivation act = Conv2dActivation::None;
  // When set (lanes values): per lane, the sum of its m * m staged values, activation applied
  // (cut tiles included: the caller sums the written pixels of those itself).
  T* lane_sums = nullptr;
  // The channel written next (same batch stride), to prefetch; may be null.
  const T* next_plane = nullptr;
  // The inference precisions' shorter exp inside SELU (simd::UnaryOps::selu_inference), where the
  // kernels apply it inline (the x86 files); the staged policy ignores it.
  bool short_exp = false;
};

// Transformed weights of one GEMM row tile: u(xi, kk, i) = transform of kernel (row m0 + i, col
// k0 + kk) at u + xi * u_xi + kk * mr + i: the packed A layout of the SGEMM micro-kernels, per xi.
// The kernels come tap-major (wt: tap e of (row r, col k) at wt[(e * cols + k) * rows + r]), so
// the taps of mr consecutive rows are one vector load; wt has a vector's width of slack at its end.
template <typename T>
struct WeightJob {
  const T* wt;
  int64_t rows, cols;
  int64_t m0;
  int mr;
  int64_t k0, kc;
  T* u;
  int64_t u_xi;
};

// The kernels of a convolution tap-major, for the weight transform (WeightJob's wt): tap e of
// (row r, column k) to wt[(e * cols + k) * rows + r], from the kernel of output row_id[r] and
// column k at weight + row_id[r] * row_stride + k * col_stride (taps 8 - e when flipped).
template <typename T>
struct TapsJob {
  const T* weight;
  int64_t row_stride, col_stride;
  const int64_t* row_id;
  int64_t rows, cols;
  bool flip;
  T* wt;
};

// One gradient channel of a block for the weight gradient: stage the m x m tiles of gy (zero
// past the plane), apply A . At, and write z(xi, lane) to z + xi * z_xi + lane.
template <typename T>
struct GradJob {
  const Seg* segs;
  int nsegs;
  int64_t valid, lanes;
  const T* plane;
  int64_t batch_stride;
  int64_t h, w;
  T* d;                    // staging: m * m rows of `stride` lanes
  int64_t stride;
  T* z;
  int64_t z_xi;
};

// The weight gradient from summed products: g[e] (tap e of 9, lane = kernel) = Gt u G, for
// `count` kernels whose a*a products lie at u + xi * u_xi + kernel; g at g + kernel * 9 + e.
template <typename T>
struct WeightGradJob {
  const T* u;
  int64_t u_xi;
  int64_t count;
  T* g;
};

template <typename T>
struct TileKernels {
  int lanes;                                      // vector width the jobs' `lanes` must be a multiple of
  void (*input[4])(const InputJob<T>&);           // [tile_index(m)]: F(2x2), F(4x4), F(6x6), F(8x8) (3x3)
  void (*output[4])(const OutputJob<T>&);
  void (*weight[4])(const WeightJob<T>&);
  // The weight gradient's kernels (x's transform is input's): gy's tiles (A . At) and Gt u G.
  void (*grad[4])(const GradJob<T>&);
  void (*weight_grad[4])(const WeightGradJob<T>&);
  void (*taps)(const TapsJob<T>&);  // any tile size
};

// The stride from one transform point to the next in a block's V and M (elements), as the driver
// lays them out (check_conv2d --transforms times both strides). The natural stride (K or rows,
// times lanes) is a multiple of 1 KB for MPF-Net's shapes, and then every point's lanes fall into
// the same few of the L1's 64 sets (64-byte lines and 64 sets on every x86 core since Sandy Bridge
// and on every Zen; 8 ways on the older ones, 12 on 48 KB L1s). c1 at 256^2 in F(6x6): 104 x 32
// floats = 13 KB, so the 64 points' 128 lines meet in 8 sets with 96 places, and the input
// transform's writes miss. One line more per point spreads them over all sets. Padded only where
// the points would fill more than half the ways of the sets they touch: padding everywhere made
// the 48^2 training passes 2-4% slower (F(2x2), 16 points). Measured on 2026-12-04: c1's F(6x6)
// input transform at 256^2 (one block, one thread) 62.5 -> 41.4 us; a 256^2 x4 inference 2.8%
// faster (median of twelve alternations; c1 4%, c2 2.5%; docs/performance.md, "Cache-set conflicts").
inline int64_t point_stride(int64_t natural, int64_t lanes, int points, int64_t elem_bytes) {
  constexpr int64_t kLine = 64, kSets = 64, kWays = 12;
  const int64_t stride_lines = natural * elem_bytes / kLine, lines = (lanes * elem_bytes + kLine - 1) / kLine;
  const int64_t starts = kSets / std::gcd(stride_lines % kSets, kSets);  // gcd(0, 64) = 64: one start
  const int64_t sets = std::min(kSets, starts * lines);
  return points * lines > kWays / 2 * sets ? natural + kLine / elem_bytes : natural;
}

// The kernel tables' index of F(m x m, 3 x 3): m = 2, 4, 6, 8 -> 0, 1, 2, 3.
constexpr int tile_index(int m) { return m / 2 - 1; }

const TileKernels<float>& tile_kernels_portable_f32();
const TileKernels<double>& tile_kernels_portable_f64();
#if defined(MPF_X86)
const TileKernels<float>& tile_kernels_avx2();
const TileKernels<float>& tile_kernels_avx512();
#endif

}  // namespace mpf::cpu::winograd
