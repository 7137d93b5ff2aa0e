// Winograd convolution for 3x3, stride 1, dilation 1 (the convolutions that make up most of
// MPF-Net): F(4x4, 3x3) does 36 multiplications per 16 outputs and input channel where the
// implicit GEMM does 144, F(2x2, 3x3) 16 per 4 (a 2.25x saving with errors like the direct sum),
// F(6x6, 3x3) 64 per 36 (5.1x) and F(8x8, 3x3) 100 per 64 (5.8x; the 'fp32' inference forward and
// forced modes only, see conv2d_algo in conv2d.cc).
//
// One driver serves three passes:
//   forward          y   = conv(x, W)                          rows = Cout, reduction = Cin
//   backward data    gx  = conv(gy, W turned 180 deg, in/out swapped), offset pad - 2
//   backward weight  gW  = Gt [ sum over tiles (A gy At) .* (Bt x B) ] G  (the adjoint of forward)
//
// Forward / backward data, per block of T tiles (lanes) and group of output rows (one task):
//   1. each reduction channel's patches are staged and transformed into GEMM B panels V(xi),
//   2. one small GEMM per transform point xi: M(xi) (rows x T) = U(xi) (rows x K) . V(xi), on the
//      SGEMM micro-kernels (gemm_kernels.h), U being the transformed weights, packed once per call
//      by each thread that runs blocks (so they stay in that core's caches),
//   3. each output row is transformed back (At M A), biased, activated (the fused activation of
//      conv2d.h, on the staged rows) and written into its plane.
// V of one block (36 x K x T floats) is sized to stay in L2; blocks run as tasks on the pool, and
// when there are too few blocks for the threads the output rows are split into groups as well.
//
// The tile kernels (staging and transforms) are per instruction set: conv2d_winograd_tiles.h.
// float64 runs the same driver on portable kernels (so gradient checks can cover this path).
// Which variant each pass uses is decided in conv2d.cc (conv2d_algo), with the measurements.
#include <algorithm>
#include <atomic>
#include <type_traits>
#include <vector>

#include "common/cpu_features.h"
#include "common/thread_pool.h"
#include "cpu/conv2d_impl.h"
#include "cpu/conv2d_winograd_kernels.h"
#include "cpu/gemm.h"
#include "cpu/gemm_kernels.h"
#include "cpu/inference_precision.h"
#include "cpu/reduce.h"

namespace mpf::cpu {

namespace winograd {

const TileKernels<float>& tile_kernels_portable_f32() {
  static const TileKernels<float> k = make_tile_kernels<float, 8>();
  return k;
}
const TileKernels<double>& tile_kernels_portable_f64() {
  static const TileKernels<double> k = make_tile_kernels<double, 8>();
  return k;
}

}  // namespace winograd

namespace conv2d_detail {
namespace {

using namespace winograd;

// ---- per-dtype plumbing: tile kernels, GEMM micro-kernels, scratch --------------------------------

// float64 micro-kernel (tests only): C (MR x n_valid) [+]= A tile . B panel, 8 columns per panel.
constexpr int kF64NR = 8, kF64MR = 4;
template <int MR>
void ukr_f64(int64_t kc, const double* a, const double* b, double* c, int64_t ldc, int n_valid, bool load_c) {
  double acc[MR][kF64NR] = {};
  for (int64_t k = 0; k < kc; ++k, a += MR, b += kF64NR)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < kF64NR; ++j) acc[i][j] += a[i] * b[j];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < n_valid; ++j) c[i * ldc + j] = load_c ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

template <typename T>
struct Engine;

template <>
struct Engine<float> {
  const TileKernels<float>& tiles;
  const gemm_detail::SgemmKernels* narrow;  // one vector wide, for narrow panels; may be null
  const gemm_detail::SgemmKernels& gemm;
  // narrow_gemm: the GEMMs run on the narrow kernels throughout (where there are some).
  explicit Engine(bool narrow_gemm = false)
      : tiles(pick_tiles()),
        narrow(gemm_detail::narrow_kernels_for(simd_level())),
        gemm(narrow_gemm && narrow ? *narrow : gemm_detail::kernels_for(simd_level())) {}
  static const TileKernels<float>& pick_tiles() {
#if defined(MPF_X86)
    if (simd_level() == Simd::AVX512) return tile_kernels_avx512();
    if (simd_level() == Simd::AVX2) return tile_kernels_avx2();
#endif
    return tile_kernels_portable_f32();
  }
  int mr_max() const { return gemm.mr_max; }
  int nr() const { return gemm.nr; }
  void ukr(int mr, int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool load_c) const {
    gemm.ukr[mr](kc, a, b, c, ldc, gemm.nr, load_c, nullptr, nullptr);
  }
  static float* scratch(int slot, int64_t n) { return thread_scratch(slot, n); }
  void pack_b_cols(const float* src, int64_t ld, int64_t kc, int64_t nc, float* dst) const {
    sgemm_pack_b_cols(src, ld, kc, nc, gemm.nr, dst, 0);
  }
  // The narrow kernels' panel width (0: none) and their packer and micro-kernel.
  int narrow_nr() const { return narrow ? narrow->nr : 0; }
  void narrow_pack_b_cols(const float* src, int64_t ld, int64_t kc, int64_t nc, float* dst) const {
    narrow->pack_b_cols(src, ld, kc, nc, narrow->nr, dst, 0);
  }
  // A row-major (row stride lda) for the weight gradient: its A is made once for one use.
  void ukr_rows_cut(int mr, int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc, int n_valid,
                    bool load_c) const {
    gemm.ukr_rows[mr](kc, a, lda, b, c, ldc, n_valid, load_c);
  }
  void narrow_ukr_rows_cut(int mr, int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                           int n_valid, bool load_c) const {
    narrow->ukr_rows[mr](kc, a, lda, b, c, ldc, n_valid, load_c);
  }
};

template <>
struct Engine<double> {
  const TileKernels<double>& tiles = tile_kernels_portable_f64();
  explicit Engine(bool = false) {}
  int mr_max() const { return kF64MR; }
  int nr() const { return kF64NR; }
  void ukr(int mr, int64_t kc, const double* a, const double* b, double* c, int64_t ldc, bool load_c) const {
    ukr_cut(mr, kc, a, b, c, ldc, kF64NR, load_c);
  }
  void ukr_cut(int mr, int64_t kc, const double* a, const double* b, double* c, int64_t ldc, int n_valid, bool load_c) const {
    static constexpr void (*k[kF64MR + 1])(int64_t, const double*, const double*, double*, int64_t, int, bool) = {
        nullptr, &ukr_f64<1>, &ukr_f64<2>, &ukr_f64<3>, &ukr_f64<4>};
    k[mr](kc, a, b, c, ldc, n_valid, load_c);
  }
  static double* scratch(int slot, int64_t n) {
    thread_local std::vector<double> buf[kScratchSlots];
    if (int64_t(buf[slot].size()) < n) buf[slot].resize(size_t(n));
    return buf[slot].data();
  }
  // The packed formats of gemm_kernels.h, in plain loops.
  static void pack_a_rows(const double* src, int64_t ld, int mr, int64_t kc, double* dst) {
    for (int64_t kk = 0; kk < kc; ++kk)
      for (int i = 0; i < mr; ++i) dst[kk * mr + i] = src[i * ld + kk];
  }
  void pack_b_cols(const double* src, int64_t ld, int64_t kc, int64_t nc, double* dst) const {
    for (int64_t j0 = 0; j0 < nc; j0 += kF64NR, dst += kc * kF64NR)
      for (int64_t kk = 0; kk < kc; ++kk)
        for (int64_t j = 0; j < kF64NR; ++j) dst[kk * kF64NR + j] = j0 + j < nc ? src[(j0 + j) * ld + kk] : 0.0;
  }
  int narrow_nr() const { return 0; }
  void narrow_pack_b_cols(const double*, int64_t, int64_t, int64_t, double*) const {}
  // Row-major A through a pack (float64 is for the tests; the float32 kernels read it in place).
  void ukr_rows_cut(int mr, int64_t kc, const double* a, int64_t lda, const double* b, double* c, int64_t ldc, int n_valid,
                    bool load_c) const {
    double* ap = scratch(kScratchPackA, mr * kc);  // free in the weight gradient, which calls this
    pack_a_rows(a, lda, mr, kc, ap);
    ukr_cut(mr, kc, ap, b, c, ldc, n_valid, load_c);
  }
  void narrow_ukr_rows_cut(int, int64_t, const double*, int64_t, const double*, double*, int64_t, int, bool) const {}
};

constexpr int64_t kKC = 256;               // reduction block of the micro-kernels
constexpr int64_t kBlockBytes = 512 << 10;  // budget for one block's V (stays in L2)
constexpr int64_t kSharedWeightBytes = 1 << 20;  // transformed weights past this: one copy for all threads

// ---- the convolution driver (forward and backward data) -------------------------------------------

// A convolution with a 3x3 kernel, stride 1: out(r, oh, ow) = bias(r) + sum over k, kh, kw of
// W(r, k, kh, kw) . src(k, oh + off_h + kh, ow + off_w + kw) (zero outside the source planes).
template <typename T>
struct ConvProblem {
  int m = 4;
  int64_t batch = 1;
  std::vector<const T*> src;  // per reduction channel k: plane of image 0
  std::vector<int64_t> src_batch_stride;
  int64_t h = 0, w = 0;
  std::vector<T*> dst;  // per output row r: plane of image 0
  std::vector<int64_t> dst_batch_stride;
  std::vector<int64_t> row_id;  // weight (and bias) row of output row r
  int64_t oh = 0, ow = 0;
  int64_t off_h = 0, off_w = 0;
  const T* weight = nullptr;  // tap e of (row_id, k) at weight[row_id * row_stride + k * col_stride + e]
  int64_t row_stride = 0, col_stride = 0;
  bool flip = false;
  const T* bias = nullptr;  // indexed by row_id
  bool bf16 = false;        // float forward only: bf16 GEMMs where the CPU has them
  Conv2dActivation act = Conv2dActivation::None;  // applied to every output value (forward only)
  bool short_exp = false;   // SELU with the inference precisions' shorter exp (OutputJob::short_exp)
  // Forward only, may be null: the mean of each output plane, means[n * rows + r], summed per
  // tile from the staged output values while they are in L1 (squeeze-excitation's pooling).
  T* means = nullptr;
};

struct RowTile {
  int64_t m0;
  int mr;
};

// Rows cut into tiles of nearly equal height <= mr_max (52 rows -> 4 x 13).
std::vector<RowTile> row_tiles(int64_t rows, int mr_max) {
  std::vector<RowTile> t;
  const int64_t n = (rows + mr_max - 1) / mr_max;
  int64_t m0 = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int mr = int(rows / n + (i < rows % n ? 1 : 0));
    t.push_back({m0, mr});
    m0 += mr;
  }
  return t;
}

// The runs of block tiles [t0, t0 + count) that lie in one tile row of one image.
void block_segments(int64_t t0, int64_t count, int64_t tiles_w, int64_t tiles_per_image, std::vector<Seg>& segs) {
  segs.clear();
  for (int64_t t = t0; t < t0 + count;) {
    const int64_t n = t / tiles_per_image, r = t % tiles_per_image, ty = r / tiles_w, tx = r % tiles_w;
    const int64_t len = std::min(tiles_w - tx, t0 + count - t);
    segs.push_back({n, ty, tx, len, t - t0});
    t += len;
  }
}

struct Plan {
  int64_t lanes;   // tiles per block (a multiple of nr)
  int64_t groups;  // output row groups
  double cost;     // modelled finishing time
};

// Block size and row groups that minimise the modelled finishing time. Costs are in multiply-adds:
// the GEMMs' X * K * rows per lane (a block's last panel counts whole: the micro-kernels compute
// it padded), each input value transformed (X per lane and input channel) counted as ~10 and
// each output value (X per lane and output row) as ~6, about what the staging and transforms cost
// next to the micro-kernels (check_conv2d --transforms: F(4x4)'s input transform takes 121 ns per
// 16 lanes and channel, the GEMMs ~0.7 ns per lane, channel and row). Tasks run dynamically on
// the pool in index order, so each goes to the thread that frees up first; the last to finish
// decides. Row groups repeat the input transform, so they only win when there are too few
// blocks to keep the threads busy.
Plan model_blocks(int64_t tiles, int64_t K, int64_t R, int64_t ntiles_rows, int X, int nr, int64_t elem_bytes, bool whole_last) {
  const int64_t threads = num_threads();
  // Blocks up to the budget of V, and no larger than all the tiles.
  const int64_t max_lanes = std::min(std::max<int64_t>(nr, kBlockBytes / (X * K * elem_bytes) / nr * nr), (tiles + nr - 1) / nr * nr);
  Plan best{nr, 1, 1e300};
  std::vector<double> busy(size_t(std::max<int64_t>(1, threads)));
  for (int64_t lanes = nr; lanes <= max_lanes; lanes += nr) {
    const int64_t blocks = (tiles + lanes - 1) / lanes;
    const int64_t last_lanes = whole_last ? lanes : (tiles - (blocks - 1) * lanes + nr - 1) / nr * nr;
    for (int64_t g = 1; g <= std::min<int64_t>(4, ntiles_rows); ++g) {
      const double rows = double(R) / double(g);
      const double per_lane = double(X) * double(K) * (rows + 10.0) + double(X) * rows * 6.0;
      // A little per task (segments, scratch, wake-ups), so equal plans prefer fewer, larger tasks.
      const double full = double(lanes) * per_lane + 2e4, last = double(last_lanes) * per_lane + 2e4;
      // The tasks before the last block's are equal, so they go round the threads.
      const int64_t before = (blocks - 1) * g;
      for (int64_t i = 0; i < threads; ++i) busy[size_t(i)] = double(before / threads + (i < before % threads ? 1 : 0)) * full;
      for (int64_t k = 0; k < g; ++k) *std::min_element(busy.begin(), busy.end()) += last;
      const double cost = *std::max_element(busy.begin(), busy.end());
      if (cost < best.cost * (1 - 1e-9)) best = {lanes, g, cost};
    }
  }
  return best;
}

// model_blocks, remembered per shape: the two searches for the head's 3 -> 52 at batch 4, 48x48
// (whose 3 input channels allow blocks of up to 2720 tiles) took ~11 us, 6% of that convolution,
// and a training step asks for the same shapes again.
Plan plan_blocks(int64_t tiles, int64_t K, int64_t R, int64_t ntiles_rows, int X, int nr, int64_t elem_bytes, bool bf16) {
  struct Entry {
    int64_t key[9];
    Plan plan;
  };
  const int64_t key[9] = {tiles, K, R, ntiles_rows, X, nr, elem_bytes, num_threads(), bf16};
  thread_local std::vector<Entry> cache;
  thread_local size_t next = 0;
  for (const Entry& e : cache)
    if (std::equal(key, key + 9, e.key)) return e.plan;
  // With bf16 GEMMs the last block counts whole, as if padded: that steers to smaller blocks, which
  // measured faster there at equal work per thread (batch 1, 48x48, C52 -> 52 and 52 -> 208:
  // blocks of 32 lanes 15% faster than of 64).
  Entry e{{}, model_blocks(tiles, K, R, ntiles_rows, X, nr, elem_bytes, bf16)};
  std::copy(key, key + 9, e.key);
  constexpr size_t kEntries = 64;
  if (cache.size() < kEntries) cache.push_back(e);
  else cache[next++ % kEntries] = e;
  return e.plan;
}

// The sum of the output pixels one segment of tiles wrote into a plane (image's plane given).
template <typename T>
double written_sum(const Seg& sg, const T* plane, int64_t oh, int64_t ow, int m) {
  const int64_t y0 = sg.ty * m, y1 = std::min(oh, y0 + m), x0 = sg.tx0 * m, x1 = std::min(ow, (sg.tx0 + sg.len) * m);
  double total = 0;
  for (int64_t y = y0; y < y1; ++y) total += contiguous_sum(plane + y * ow + x0, x1 - x0);
  return total;
}

template <typename T>
void run_conv(const ConvProblem<T>& p) {
  const int vi = tile_index(p.m);
  const int A = p.m + 2, X = A * A;
  const int64_t K = int64_t(p.src.size()), R = int64_t(p.dst.size());
  if (R == 0) return;
  const int64_t tiles_h = (p.oh + p.m - 1) / p.m, tiles_w = (p.ow + p.m - 1) / p.m;
  const int64_t per_image = tiles_h * tiles_w, tiles = p.batch * per_image;

  // The GEMMs' panel width is the blocks' granularity: a block's last panel is computed whole.
  // Where the tiles do not fill whole panels per thread, the narrow kernels (AVX-512: 16 columns
  // against 32, the same rows and the same sums in the same order, so the same bits) pad less:
  // F(4x4) at 48x48 with batch 1 has 144 tiles, 4.5 panels of 32, which two threads ran as 96 +
  // 48 (3 + 2 panels), against 80 + 64 in panels of 16. Per useful product they run as fast on
  // the Zen 4 host (docs/performance.md, "Narrow panels"); not with bf16, whose kernels are 32 wide.
  const Engine<T> wide;
  const int64_t rows_tiles = int64_t(row_tiles(R, wide.mr_max()).size());  // narrow's rows are the same
  Plan plan = plan_blocks(tiles, K, R, rows_tiles, X, wide.nr(), int64_t(sizeof(T)), p.bf16);
  bool narrow = false;
  if (!p.bf16 && wide.narrow_nr() > 0) {
    const Plan pn = plan_blocks(tiles, K, R, rows_tiles, X, wide.narrow_nr(), int64_t(sizeof(T)), false);
    if (pn.cost < plan.cost * 0.97) {
      plan = pn;
      narrow = true;
    }
  }
  const Engine<T> eng(narrow);
  const int nr = eng.nr();
  const std::vector<RowTile> rtiles = row_tiles(R, eng.mr_max());
  // bf16: U again as bf16 pairs (tile (m0, mr) of U(xi) at Ub + xi * R * KP + m0 * KP), and each
  // block's V(xi) converted just before its GEMMs (formats: inference_precision.h).
  const bf16::Kernels* bk = nullptr;
  if constexpr (std::is_same_v<T, float>)
    if (p.bf16 && (bk = bf16_gemm_kernels()) && (bk->nr != nr || bk->mr_max < eng.mr_max())) bk = nullptr;
  const int64_t KP = (K + 1) / 2, kKP = kKC / 2;

  // The transformed weights, packed: tile (m0, mr) of U(xi) at U + xi * R * K + m0 * K. Every
  // thread that runs a block makes its own copy in its own scratch, on its own core: the GEMMs
  // of every block read all of U, and a U written half by each thread had to cross between the
  // cores' caches each call (0.4-1.5 MB, thousands of lines); at 48x48 with batch 1 that made
  // the weight transform 12% of a 2-thread data pass against 4% of a 1-thread one, and the pass
  // on 2 threads hardly faster than on 1 (numbers: docs/performance.md, "Weights per thread").
  // Columns [k0, k0 + kn) of U. The kernels tap-major first (Wt: tap e of (row r, column k0 + k) at
  // Wt[(e * kn + k) * R + r], with a vector of slack), so the weight transform reads the taps of
  // consecutive rows as one vector (gathering them from the kernel-major weights had cost a fifth
  // of a small data pass).
  const auto transform_weights = [&](int64_t k0, int64_t kn, T* U) {
    const int64_t slack = 16, kchunk = 32;
    T* Wt = Engine<T>::scratch(kScratchPartial, 9 * kn * R + slack);
    std::fill(Wt + 9 * kn * R, Wt + 9 * kn * R + slack, T(0));
    eng.tiles.taps(TapsJob<T>{p.weight + k0 * p.col_stride, p.row_stride, p.col_stride, p.row_id.data(), R, kn, p.flip, Wt});
    for (const RowTile& rt : rtiles)
      for (int64_t kk = 0; kk < kn; kk += kchunk) {
        const WeightJob<T> job{Wt, R, kn, rt.m0, rt.mr, kk, std::min(kchunk, kn - kk), U + rt.m0 * K + (k0 + kk) * rt.mr, R * K};
        eng.tiles.weight[vi](job);
      }
  };
  const auto prepare_weights = [&]() {
    T* U = Engine<T>::scratch(kScratchCaller, X * R * K);
    transform_weights(0, K, U);
    if (bk) {
      uint32_t* Ub = reinterpret_cast<uint32_t*>(thread_scratch(kScratchPrepackA, X * R * KP));
      for (int64_t xi = 0; xi < X; ++xi)
        for (const RowTile& rt : rtiles)
          bk->pack_a(reinterpret_cast<const float*>(U + xi * R * K + rt.m0 * K), rt.mr, K, Ub + xi * R * KP + rt.m0 * KP);
    }
  };
  // Which call this thread's scratch holds the weights of (the pool runs one region at a time, and
  // only this driver writes those slots on the pool's threads; on the calling thread a new call id
  // makes it recompute).
  static std::atomic<uint64_t> calls{0};
  const uint64_t call = ++calls;

  // Where U is larger than a core's L2 (F(8x8) and F(6x6) for the CPB's convolutions, 1.1-2.2 MB;
  // F(4x4) for the upsampler's data pass, 1.6 MB), every block reads it from the shared cache
  // whichever core wrote it, and a copy per thread only repeats the work: there the threads make
  // one U between them before the blocks, each a slice of the reduction channels
  // (transform_weights). Measured: docs/performance.md, "Weights per thread".
  T* shared_u = nullptr;
  if (!bk && num_threads() > 1 && X * R * K * int64_t(sizeof(T)) > kSharedWeightBytes) {
    shared_u = Engine<T>::scratch(kScratchCaller, X * R * K);
    const int64_t slices = std::min<int64_t>(K, 2 * num_threads()), per = (K + slices - 1) / slices;
    parallel_tasks((K + per - 1) / per, [&](int64_t sl) { transform_weights(sl * per, std::min(per, K - sl * per), shared_u); });
  }

  const int64_t nblocks = (tiles + plan.lanes - 1) / plan.lanes;
  // Row groups: whole row tiles, as even in rows as possible.
  std::vector<size_t> group_tile(size_t(plan.groups) + 1, rtiles.size());
  for (int64_t g = 0, t = 0; g < plan.groups; ++g) {
    while (t < int64_t(rtiles.size()) && rtiles[size_t(t)].m0 < R * g / plan.groups) ++t;
    group_tile[size_t(g)] = size_t(t);
  }

  // Plane sums, per block and per image the block touches (a block spans at most `span` images),
  // added up in block order after the blocks: the same sums whatever thread ran which block.
  const int64_t span = (plan.lanes + per_image - 1) / per_image + 1;
  std::vector<double> block_sums(p.means ? size_t(nblocks * span * R) : 0, 0.0);

  parallel_tasks(nblocks * plan.groups, [&](int64_t task) {
    const int64_t b = task / plan.groups, g = task % plan.groups;
    const size_t gt0 = group_tile[size_t(g)], gt1 = group_tile[size_t(g) + 1];
    if (gt0 == gt1) return;
    const int64_t row0 = rtiles[gt0].m0, row1 = rtiles[gt1 - 1].m0 + rtiles[gt1 - 1].mr, rows = row1 - row0;
    const int64_t t0 = b * plan.lanes, valid = std::min(plan.lanes, tiles - t0);
    const int64_t lanes = (valid + nr - 1) / nr * nr, panels = lanes / nr;
    thread_local std::vector<Seg> segs;
    block_segments(t0, valid, tiles_w, per_image, segs);
    thread_local uint64_t weights_of_call = 0;
    if (!shared_u && weights_of_call != call) {
      prepare_weights();
      weights_of_call = call;
    }
    const T* U = shared_u ? shared_u : Engine<T>::scratch(kScratchCaller, X * R * K);
    const uint32_t* Ub = bk ? reinterpret_cast<const uint32_t*>(thread_scratch(kScratchPrepackA, X * R * KP)) : nullptr;

    // 1. V(xi): panel j of reduction channel k at V + xi * v_xi + j * K * nr + k * nr.
    const int64_t v_xi = point_stride(K * lanes, lanes, X, int64_t(sizeof(T)));
    T* V = Engine<T>::scratch(kScratchPackB, X * v_xi);
    T* stage = Engine<T>::scratch(kScratchPacker, X * lanes);
    for (int64_t k = 0; k < K; ++k) {
      const T* next = k + 1 < K && p.src_batch_stride[size_t(k + 1)] == p.src_batch_stride[size_t(k)] ? p.src[size_t(k + 1)] : nullptr;
      const InputJob<T> job{segs.data(), int(segs.size()), valid, lanes, p.src[size_t(k)], next, p.src_batch_stride[size_t(k)],
                            p.h, p.w, p.off_h, p.off_w, stage, lanes, V + k * nr, v_xi, K * nr, nr};
      eng.tiles.input[vi](job);
    }

    // 2. M(xi) (rows x lanes) = U(xi) . V(xi), at Mb + xi * m_xi + (row - row0) * lanes.
    const int64_t m_xi = point_stride(rows * lanes, lanes, X, int64_t(sizeof(T)));
    T* Mb = Engine<T>::scratch(kScratchPackA, X * m_xi);
    uint32_t* Vb = bk ? reinterpret_cast<uint32_t*>(thread_scratch(kScratchPartial, KP * lanes)) : nullptr;
    for (int xi = 0; xi < X && bk; ++xi) {
      const T* Vx = V + xi * v_xi;
      for (int64_t j = 0; j < panels; ++j) bk->pack_b(reinterpret_cast<const float*>(Vx + j * K * nr), K, Vb + j * KP * nr);
      for (size_t ti = gt0; ti < gt1; ++ti) {
        const RowTile& rt = rtiles[ti];
        float* c = reinterpret_cast<float*>(Mb + xi * m_xi + (rt.m0 - row0) * lanes);
        for (int64_t q0 = 0; q0 < KP; q0 += kKP) {
          const int64_t qc = std::min(kKP, KP - q0);
          for (int64_t j = 0; j < panels; ++j)
            bk->ukr[rt.mr](qc, Ub + xi * R * KP + rt.m0 * KP + q0 * rt.mr, Vb + j * KP * nr + q0 * nr, c + j * nr, lanes, nr, q0 > 0);
        }
      }
    }
    for (int xi = 0; xi < X && !bk; ++xi) {
      const T* Ux = U + xi * R * K;
      const T* Vx = V + xi * v_xi;
      for (size_t ti = gt0; ti < gt1; ++ti) {
        const RowTile& rt = rtiles[ti];
        T* c = Mb + xi * m_xi + (rt.m0 - row0) * lanes;
        for (int64_t k0 = 0; k0 < K; k0 += kKC) {
          const int64_t kc = std::min(kKC, K - k0);
          for (int64_t j = 0; j < panels; ++j)
            eng.ukr(rt.mr, kc, Ux + rt.m0 * K + k0 * rt.mr, Vx + j * K * nr + k0 * nr, c + j * nr, lanes, k0 > 0);
        }
      }
    }

    // 3. Back to pixels, row by row.
    thread_local std::vector<T> lane_sum_buf;
    if (p.means && int64_t(lane_sum_buf.size()) < lanes) lane_sum_buf.resize(size_t(lanes));
    T* lane_sums = lane_sum_buf.data();
    for (int64_t r = row0; r < row1; ++r) {
      const T* next = r + 1 < row1 && p.dst_batch_stride[size_t(r + 1)] == p.dst_batch_stride[size_t(r)] ? p.dst[size_t(r + 1)] : nullptr;
      const OutputJob<T> job{segs.data(), int(segs.size()), lanes, Mb + (r - row0) * lanes, m_xi,
                             p.bias ? p.bias[p.row_id[size_t(r)]] : T(0), stage, lanes, p.dst[size_t(r)],
                             p.dst_batch_stride[size_t(r)], p.oh, p.ow, p.act, p.means ? lane_sums : nullptr, next,
                             p.short_exp};
      eng.tiles.output[vi](job);
      if (p.means) {
        // Whole tiles from the lane sums; tiles cut by the plane's edge from the pixels written.
        double* sums = block_sums.data() + b * span * R + r;
        const int64_t n0 = t0 / per_image;
        for (const Seg& sg : segs) {
          double sum = 0;
          if ((sg.ty + 1) * p.m <= p.oh && (sg.tx0 + sg.len) * p.m <= p.ow)
            for (int64_t l = sg.lane0; l < sg.lane0 + sg.len; ++l) sum += double(lane_sums[l]);
          else
            sum = written_sum(sg, p.dst[size_t(r)] + sg.n * p.dst_batch_stride[size_t(r)], p.oh, p.ow, p.m);
          sums[(sg.n - n0) * R] += sum;
        }
      }
    }
  });
  if (p.means) {
    const int64_t images = p.batch;
    std::vector<double> total(size_t(images * R), 0.0);
    for (int64_t b = 0; b < nblocks; ++b) {
      const int64_t n0 = b * plan.lanes / per_image;
      for (int64_t j = 0; j < span && n0 + j < images; ++j)
        for (int64_t r = 0; r < R; ++r) total[size_t((n0 + j) * R + r)] += block_sums[size_t((b * span + j) * R + r)];
    }
    for (int64_t i = 0; i < images * R; ++i) p.means[i] = T(total[size_t(i)] / double(p.oh * p.ow));
  }
}

// ---- the weight gradient -----------------------------------------------------------------------

// Tiles per block: the GEMMs' reduction depth. Each block reads and writes its slice's whole gU
// (X x Cout x Cin, 346 KB for F(2x2) and the CPB's c1), so fewer, deeper blocks save that traffic
// until V and Z leave L2. Measured (check_conv2d --bench --pass weight, 2 threads, F(2x2)): 96 vs 64
// is +13% for c1 at 48x48 (3 blocks per slice instead of 5), +4% for c2, +8% for 52 -> 208 at
// 96x96, equal at 128x128 and on one thread. In F(4x4) (the weight gradient's tile since
// 2026-12-05) 96 against 48 measured +7% for c2 and c1 at 48x48, equal elsewhere.
constexpr int64_t kGradBlock = 96;

// gU(xi) (Cout x Cin) = sum over tiles of Z(xi) (Cout x tiles) . V(xi)^T, with Z = A gy At and
// V = Bt x B per tile; then gW = Gt gU G. The tiles are cut into one slice per thread, each
// summing into its own gU; the slices' sums are added at the end.
// gb (may be null): the bias gradient, summed in double from the staged gy tiles (zeros past the
// plane) while they are in L1, instead of a pass of its own over gy (1.9 MB for a CPB convolution
// at batch 4, 48x48; docs/performance.md, "The bias gradient inside the weight gradient"). Not
// from Z at the point 1, where A's row is all ones: that sum of 16 values rounds in float, and
// the golden test's weights after Adam moved from 1.26e-5 to 9.88e-5 of PyTorch's (bound 1e-4).
template <typename T>
void run_weight_grad(const Conv2dShape& s, const std::vector<const T*>& xs, const T* gy, T* gw, T* gb, int m) {
  const Engine<T> eng;
  const int vi = tile_index(m);
  const int A = m + 2, X = A * A;
  const int nr = eng.nr(), L = eng.tiles.lanes;
  std::vector<const T*> src;
  std::vector<int64_t> src_stride;
  part_planes(s, xs, src, src_stride);
  const int64_t Cin = int64_t(src.size()), Cout = s.out_channels, OH = s.out_h(), OW = s.out_w(), ohw = OH * OW;
  const int64_t tiles_h = (OH + m - 1) / m, tiles_w = (OW + m - 1) / m, per_image = tiles_h * tiles_w;
  const int64_t tiles = s.batch * per_image;
  const std::vector<RowTile> rtiles = row_tiles(Cout, eng.mr_max());
  // Input channels past the last whole panel go to one narrow panel where they fit it (104 = 3 x 32
  // + 8 with AVX-512): a full-width last panel would be three quarters zeros, 19% of the GEMM's
  // work for the CPB's c1.
  const int64_t tail = Cin % nr;
  const int64_t narrow_cols = tail > 0 && tail <= eng.narrow_nr() ? tail : 0, wide_cols = Cin - narrow_cols;
  const int64_t slices = std::max<int64_t>(1, std::min<int64_t>(num_threads(), tiles / 16));
  const int64_t gsize = X * Cout * Cin;
  T* gu = Engine<T>::scratch(kScratchCaller, slices * gsize);
  // Per slice and output channel, in double: the same sums whatever thread ran which slice.
  std::vector<double> bias_sums(gb ? size_t(slices * Cout) : 0, 0.0);

  parallel_tasks(slices, [&](int64_t sl) {
    const int64_t s0 = tiles * sl / slices, s1 = tiles * (sl + 1) / slices;
    const int64_t nblocks = (s1 - s0 + kGradBlock - 1) / kGradBlock;
    T* acc = gu + sl * gsize;
    thread_local std::vector<Seg> segs;
    for (int64_t b = 0; b < nblocks; ++b) {
      // Blocks of equal size, so no block is left with a sliver of tiles.
      const int64_t t0 = s0 + (s1 - s0) * b / nblocks, valid = s0 + (s1 - s0) * (b + 1) / nblocks - t0;
      const int64_t lanes = (valid + L - 1) / L * L;
      block_segments(t0, valid, tiles_w, per_image, segs);
      T* stage = Engine<T>::scratch(kScratchPacker, X * lanes);
      // Z(xi) (Cout x lanes) and V(xi) (Cin x lanes), lane-contiguous.
      T* Z = Engine<T>::scratch(kScratchPartial, X * Cout * lanes);
      for (int64_t co = 0; co < Cout; ++co) {
        const GradJob<T> job{segs.data(), int(segs.size()), valid, lanes, gy + co * ohw, Cout * ohw, OH, OW, stage, lanes,
                             Z + co * lanes, Cout * lanes};
        eng.tiles.grad[vi](job);
        if (gb)
          for (int e = 0; e < m * m; ++e) bias_sums[size_t(sl * Cout + co)] += contiguous_sum(stage + e * lanes, valid);
      }
      T* V = Engine<T>::scratch(kScratchPackB, X * Cin * lanes);
      for (int64_t ci = 0; ci < Cin; ++ci) {
        const T* next = ci + 1 < Cin && src_stride[size_t(ci + 1)] == src_stride[size_t(ci)] ? src[size_t(ci + 1)] : nullptr;
        const InputJob<T> job{segs.data(), int(segs.size()), valid, lanes, src[size_t(ci)], next, src_stride[size_t(ci)], s.in_h,
                              s.in_w, -s.pad_h, -s.pad_w, stage, lanes, V + ci * lanes, Cin * lanes, 0, int(lanes)};
        eng.tiles.input[vi](job);
      }
      T* bp = Engine<T>::scratch(kScratchPrepackA, (Cin + nr - 1) / nr * nr * valid);
      for (int xi = 0; xi < X; ++xi) {
        const T* zx = Z + xi * Cout * lanes;  // the micro-kernels read its rows in place
        const T* vx = V + xi * Cin * lanes;
        eng.pack_b_cols(vx, lanes, valid, wide_cols, bp);
        if (narrow_cols) eng.narrow_pack_b_cols(vx + wide_cols * lanes, lanes, valid, narrow_cols, bp + wide_cols * valid);
        T* c = acc + xi * Cout * Cin;
        for (const RowTile& rt : rtiles) {
          for (int64_t j = 0; j * nr < wide_cols; ++j)
            eng.ukr_rows_cut(rt.mr, valid, zx + rt.m0 * lanes, lanes, bp + j * valid * nr, c + rt.m0 * Cin + j * nr, Cin,
                             int(std::min<int64_t>(nr, wide_cols - j * nr)), b > 0);
          if (narrow_cols)
            eng.narrow_ukr_rows_cut(rt.mr, valid, zx + rt.m0 * lanes, lanes, bp + wide_cols * valid, c + rt.m0 * Cin + wide_cols, Cin,
                                    int(narrow_cols), b > 0);
        }
      }
    }
  });

  // Add the slices' sums and transform back: gW(co, ci) = Gt gU(co, ci) G.
  const int64_t kernels = Cout * Cin, chunk = 256;
  parallel_for((kernels + chunk - 1) / chunk, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t k0 = c * chunk, n = std::min(chunk, kernels - k0);
      for (int64_t sl = 1; sl < slices; ++sl)
        for (int xi = 0; xi < X; ++xi) {
          T* d = gu + xi * kernels + k0;
          const T* e = gu + sl * gsize + xi * kernels + k0;
          for (int64_t q = 0; q < n; ++q) d[q] += e[q];
        }
      eng.tiles.weight_grad[vi](WeightGradJob<T>{gu + k0, kernels, n, gw + k0 * 9});
    }
  });
  for (int64_t co = 0; gb && co < Cout; ++co) {
    double total = 0;
    for (int64_t sl = 0; sl < slices; ++sl) total += bias_sums[size_t(sl * Cout + co)];
    gb[co] = T(total);
  }
}

}  // namespace

bool winograd_applies(const Conv2dShape& s) {
  return s.kernel_h == 3 && s.kernel_w == 3 && s.stride_h == 1 && s.stride_w == 1 && s.dilation_h == 1 && s.dilation_w == 1;
}

template <typename T>
void forward_winograd(const Conv2dShape& s, const std::vector<const T*>& xs, const T* w, const T* b, T* y, int m,
                      Conv2dActivation act, bool bf16, T* means) {
  ConvProblem<T> p;
  p.means = means;
  p.bf16 = bf16;
  p.m = m;
  p.batch = s.batch;
  part_planes(s, xs, p.src, p.src_batch_stride);
  p.h = s.in_h;
  p.w = s.in_w;
  p.oh = s.out_h();
  p.ow = s.out_w();
  const int64_t ohw = p.oh * p.ow, Cin = s.total_in_channels();
  for (int64_t co = 0; co < s.out_channels; ++co) {
    p.dst.push_back(y + co * ohw);
    p.dst_batch_stride.push_back(s.out_channels * ohw);
    p.row_id.push_back(co);
  }
  p.off_h = -s.pad_h;
  p.off_w = -s.pad_w;
  p.weight = w;
  p.row_stride = Cin * 9;
  p.col_stride = 9;
  p.bias = b;
  p.act = act;
  // Under 'fp32' and 'bf16' (the calling thread's setting, read here before the pool runs) SELU
  // takes the shorter exp: docs/performance.md, "The inference precisions' shorter exp".
  p.short_exp = inference_precision() != InferencePrecision::Strict;
  run_conv(p);
}

template <typename T>
void backward_data_winograd(const Conv2dShape& s, const T* w, const T* gy, const std::vector<T*>& gxs, int m) {
  ConvProblem<T> p;
  p.m = m;
  p.batch = s.batch;
  const int64_t OH = s.out_h(), OW = s.out_w(), ohw = OH * OW, hw = s.in_h * s.in_w, Cin = s.total_in_channels();
  for (int64_t co = 0; co < s.out_channels; ++co) {
    p.src.push_back(gy + co * ohw);
    p.src_batch_stride.push_back(s.out_channels * ohw);
  }
  p.h = OH;
  p.w = OW;
  int64_t c0 = 0;
  for (size_t j = 0; j < gxs.size(); ++j) {
    if (gxs[j])
      for (int64_t c = 0; c < s.in_channels[j]; ++c) {
        p.dst.push_back(gxs[j] + c * hw);
        p.dst_batch_stride.push_back(s.in_channels[j] * hw);
        p.row_id.push_back(c0 + c);
      }
    c0 += s.in_channels[j];
  }
  p.oh = s.in_h;
  p.ow = s.in_w;
  // gx(ci, ih, iw) = sum of gy(co, ih + pad - kh, ...) W(co, ci, kh, kw): a correlation with the
  // kernel turned around (tap 8 - e), reading gy from offset pad - 2.
  p.off_h = s.pad_h - 2;
  p.off_w = s.pad_w - 2;
  p.weight = w;
  p.row_stride = 9;
  p.col_stride = Cin * 9;
  p.flip = true;
  run_conv(p);
}

template <typename T>
void backward_weight_winograd(const Conv2dShape& s, const std::vector<const T*>& xs, const T* gy, T* gw, T* gb, int m) {
  run_weight_grad(s, xs, gy, gw, gb, m);
}

#define MPF_WINOGRAD(T)                                                                                                  \
  template void forward_winograd<T>(const Conv2dShape&, const std::vector<const T*>&, const T*, const T*, T*, int, Conv2dActivation, bool, T*); \
  template void backward_data_winograd<T>(const Conv2dShape&, const T*, const T*, const std::vector<T*>&, int); \
  template void backward_weight_winograd<T>(const Conv2dShape&, const std::vector<const T*>&, const T*, T*, T*, int);
MPF_WINOGRAD(float)
MPF_WINOGRAD(double)
#undef MPF_WINOGRAD

}  // namespace conv2d_detail
}  // namespace mpf::cpu
