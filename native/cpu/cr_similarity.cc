#include "cpu/cr_similarity.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/thread_pool.h"

namespace mpf::cpu {
namespace {

// Pixels per task: the per-pixel accumulators of a block stay in L1 while the channels stream by.
constexpr int64_t kPixelBlock = 512;

// Norms and dot products accumulate in double: features of an untrained or badly scaled network
// can reach magnitudes whose squares overflow float (PyTorch's float32 normalize would give inf).

// 1 / max(‖v[:, p]‖, eps) for the pixels [p0, p1) of a (c, hw) plane stack; `sq` is scratch.
template <typename T>
void inverse_norms(const T* v, int64_t c, int64_t hw, int64_t p0, int64_t p1, double eps, double* inv, double* sq) {
  const int64_t len = p1 - p0;
  std::fill(sq, sq + len, 0.0);
  for (int64_t ch = 0; ch < c; ++ch) {
    const T* row = v + ch * hw + p0;
    for (int64_t j = 0; j < len; ++j) sq[j] += double(row[j]) * double(row[j]);
  }
  for (int64_t j = 0; j < len; ++j) inv[j] = 1.0 / std::max(std::sqrt(sq[j]), eps);
}

// One pass over the channels: Σ_c v² (for v's norm) and Σ_c u·v, for the pixels [p0, p1).
template <typename T>
void norms_and_dots(const T* u, const T* v, int64_t c, int64_t hw, int64_t p0, int64_t p1, double* sqv, double* dot) {
  const int64_t len = p1 - p0;
  std::fill(sqv, sqv + len, 0.0);
  std::fill(dot, dot + len, 0.0);
  for (int64_t ch = 0; ch < c; ++ch) {
    const T* ur = u + ch * hw + p0;
    const T* vr = v + ch * hw + p0;
    for (int64_t j = 0; j < len; ++j) {
      const double bv = double(vr[j]);
      sqv[j] += bv * bv;
      dot[j] += double(ur[j]) * bv;
    }
  }
}

}  // namespace

template <typename T>
void cr_similarity_forward(const T* a, const T* b, const int64_t* index, T* s, int64_t n, int64_t m, int64_t c, int64_t hw, double eps) {
  std::vector<std::vector<int64_t>> of(static_cast<size_t>(n));
  for (int64_t j = 0; j < m; ++j) of[size_t(index[j])].push_back(j);
  const int64_t blocks = (hw + kPixelBlock - 1) / kPixelBlock;
  // Partial sums per (sample, block), added in a fixed order afterwards: the result does not
  // depend on the thread count. Tasks own (anchor, block), so an anchor's norms are computed once.
  std::vector<double> partial(static_cast<size_t>(m * blocks));
  parallel_tasks(n * blocks, [&](int64_t task) {
    const int64_t i = task / blocks, blk = task % blocks;
    if (of[size_t(i)].empty()) return;
    const int64_t p0 = blk * kPixelBlock, p1 = std::min(hw, p0 + kPixelBlock), len = p1 - p0;
    const T* ai = a + i * c * hw;
    double ia[kPixelBlock], sq[kPixelBlock], dot[kPixelBlock];
    inverse_norms(ai, c, hw, p0, p1, eps, ia, sq);
    for (int64_t j : of[size_t(i)]) {
      norms_and_dots(ai, b + j * c * hw, c, hw, p0, p1, sq, dot);
      double acc = 0;
      for (int64_t q = 0; q < len; ++q) acc += dot[q] * ia[q] / std::max(std::sqrt(sq[q]), eps);
      partial[size_t(j * blocks + blk)] = acc;
    }
  });
  for (int64_t j = 0; j < m; ++j) {
    double acc = 0;
    for (int64_t blk = 0; blk < blocks; ++blk) acc += partial[size_t(j * blocks + blk)];
    s[j] = T(acc / double(hw));
  }
}

template <typename T>
void cr_similarity_backward(const T* a, const T* b, const int64_t* index, const T* gs, T* ga, T* gb, int64_t n, int64_t m, int64_t c,
                            int64_t hw, double eps) {
  // Tasks own (anchor, pixel block): every sample of that anchor adds into the same ga block, and
  // writes its own gb block, so no two tasks touch the same memory.
  std::vector<std::vector<int64_t>> of(static_cast<size_t>(n));
  for (int64_t j = 0; j < m; ++j) of[size_t(index[j])].push_back(j);
  const int64_t blocks = (hw + kPixelBlock - 1) / kPixelBlock;
  parallel_tasks(n * blocks, [&](int64_t task) {
    const int64_t i = task / blocks, blk = task % blocks;
    const int64_t p0 = blk * kPixelBlock, p1 = std::min(hw, p0 + kPixelBlock), len = p1 - p0;
    const T* ai = a + i * c * hw;
    T* gai = ga ? ga + i * c * hw : nullptr;
    if (of[size_t(i)].empty()) {
      if (gai)
        for (int64_t ch = 0; ch < c; ++ch) std::fill(gai + ch * hw + p0, gai + ch * hw + p1, T(0));
      return;
    }
    double ia[kPixelBlock], ib[kPixelBlock], sq[kPixelBlock], dot[kPixelBlock], ca[kPixelBlock], cb[kPixelBlock], cab[kPixelBlock];
    // The anchor's gradient block accumulates in double and is written once at the end.
    std::vector<double> acc(gai ? size_t(c * len) : 0, 0.0);
    inverse_norms(ai, c, hw, p0, p1, eps, ia, sq);
    // Whether a's norm was clamped (then â = a / eps and there is no projection term).
    bool a_clamped[kPixelBlock];
    for (int64_t q = 0; q < len; ++q) a_clamped[q] = !(ia[q] < 1.0 / eps);
    for (int64_t j : of[size_t(i)]) {
      const T* bj = b + j * c * hw;
      const double g = double(gs[j]) / double(hw);
      norms_and_dots(ai, bj, c, hw, p0, p1, sq, dot);
      for (int64_t q = 0; q < len; ++q) ib[q] = 1.0 / std::max(std::sqrt(sq[q]), eps);
      // With t = â·b̂: ∂t/∂a = (b̂ − â·t)/‖a‖ = b·(ib·ia) − a·(t·ia²), and symmetrically for b.
      for (int64_t q = 0; q < len; ++q) {
        const double t = dot[q] * ia[q] * ib[q];
        ca[q] = a_clamped[q] ? 0.0 : g * t * ia[q] * ia[q];
        cb[q] = ib[q] < 1.0 / eps ? g * t * ib[q] * ib[q] : 0.0;
        cab[q] = g * ia[q] * ib[q];
      }
      for (int64_t ch = 0; ch < c; ++ch) {
        const T* ar = ai + ch * hw + p0;
        const T* br = bj + ch * hw + p0;
        if (gai) {
          double* out = acc.data() + ch * len;
          for (int64_t q = 0; q < len; ++q) out[q] += double(br[q]) * cab[q] - double(ar[q]) * ca[q];
        }
        if (gb) {
          T* out = gb + j * c * hw + ch * hw + p0;
          for (int64_t q = 0; q < len; ++q) out[q] = T(double(ar[q]) * cab[q] - double(br[q]) * cb[q]);
        }
      }
    }
    if (gai)
      for (int64_t ch = 0; ch < c; ++ch) {
        T* out = gai + ch * hw + p0;
        const double* src = acc.data() + ch * len;
        for (int64_t q = 0; q < len; ++q) out[q] = T(src[q]);
      }
  });
}

#define MPF_CR_SIMILARITY_INSTANTIATE(T)                                                                                              \
  template void cr_similarity_forward<T>(const T*, const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t, double);         \
  template void cr_similarity_backward<T>(const T*, const T*, const int64_t*, const T*, T*, T*, int64_t, int64_t, int64_t, int64_t,  \
                                          double);
MPF_CR_SIMILARITY_INSTANTIATE(float)
MPF_CR_SIMILARITY_INSTANTIATE(double)

}  // namespace mpf::cpu
