#include "cpu/cr_similarity.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/thread_pool.h"

namespace mpf::cpu {
namespace {

// Pixels per task: the per-pixel accumulators of a block stay in L1 while the channels stream by.
constexpr int64_t kPixelBlock = 512;

// 1 / max(‖v[:, p]‖, eps) for the pixels [p0, p1) of a (c, hw) plane stack; `sq` is scratch.
template <typename T>
void inverse_norms(const T* v, int64_t c, int64_t hw, int64_t p0, int64_t p1, double eps, T* inv, T* sq) {
  const int64_t len = p1 - p0;
  std::fill(sq, sq + len, T(0));
  for (int64_t ch = 0; ch < c; ++ch) {
    const T* row = v + ch * hw + p0;
    for (int64_t j = 0; j < len; ++j) sq[j] += row[j] * row[j];
  }
  for (int64_t j = 0; j < len; ++j) inv[j] = T(1) / std::max(T(std::sqrt(sq[j])), T(eps));
}

// Σ_c u[c, p]·v[c, p] for the pixels [p0, p1).
template <typename T>
void channel_dots(const T* u, const T* v, int64_t c, int64_t hw, int64_t p0, int64_t p1, T* dot) {
  const int64_t len = p1 - p0;
  std::fill(dot, dot + len, T(0));
  for (int64_t ch = 0; ch < c; ++ch) {
    const T* ur = u + ch * hw + p0;
    const T* vr = v + ch * hw + p0;
    for (int64_t j = 0; j < len; ++j) dot[j] += ur[j] * vr[j];
  }
}

}  // namespace

template <typename T>
void cr_similarity_forward(const T* a, const T* b, const int64_t* index, T* s, int64_t n, int64_t m, int64_t c, int64_t hw, double eps) {
  (void)n;
  const int64_t blocks = (hw + kPixelBlock - 1) / kPixelBlock;
  // Partial sums per (sample, block), added in a fixed order afterwards: the result does not
  // depend on the thread count.
  std::vector<double> partial(static_cast<size_t>(m * blocks));
  parallel_tasks(m * blocks, [&](int64_t task) {
    const int64_t j = task / blocks, blk = task % blocks;
    const int64_t p0 = blk * kPixelBlock, p1 = std::min(hw, p0 + kPixelBlock), len = p1 - p0;
    const T* ai = a + index[j] * c * hw;
    const T* bj = b + j * c * hw;
    T ia[kPixelBlock], ib[kPixelBlock], sq[kPixelBlock], dot[kPixelBlock];
    inverse_norms(ai, c, hw, p0, p1, eps, ia, sq);
    inverse_norms(bj, c, hw, p0, p1, eps, ib, sq);
    channel_dots(ai, bj, c, hw, p0, p1, dot);
    double acc = 0;
    for (int64_t q = 0; q < len; ++q) acc += double(dot[q] * ia[q] * ib[q]);
    partial[size_t(task)] = acc;
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
  const T teps = T(eps);
  parallel_tasks(n * blocks, [&](int64_t task) {
    const int64_t i = task / blocks, blk = task % blocks;
    const int64_t p0 = blk * kPixelBlock, p1 = std::min(hw, p0 + kPixelBlock), len = p1 - p0;
    const T* ai = a + i * c * hw;
    T* gai = ga ? ga + i * c * hw : nullptr;
    if (gai)
      for (int64_t ch = 0; ch < c; ++ch) std::fill(gai + ch * hw + p0, gai + ch * hw + p1, T(0));
    if (of[size_t(i)].empty()) return;
    T ia[kPixelBlock], ib[kPixelBlock], sq[kPixelBlock], dot[kPixelBlock], ca[kPixelBlock], cb[kPixelBlock], da[kPixelBlock], db[kPixelBlock];
    inverse_norms(ai, c, hw, p0, p1, eps, ia, sq);
    // Whether a's norm was clamped (then â = a / eps and no projection term).
    for (int64_t q = 0; q < len; ++q) da[q] = ia[q] < T(1) / teps ? T(1) : T(0);
    for (int64_t j : of[size_t(i)]) {
      const T* bj = b + j * c * hw;
      const T g = gs[j] / T(hw);
      inverse_norms(bj, c, hw, p0, p1, eps, ib, sq);
      for (int64_t q = 0; q < len; ++q) db[q] = ib[q] < T(1) / teps ? T(1) : T(0);
      channel_dots(ai, bj, c, hw, p0, p1, dot);
      // With t = â·b̂: ∂t/∂a = (b̂ − â·t)/‖a‖ = b·(ib·ia) − a·(t·ia²), and symmetrically for b.
      for (int64_t q = 0; q < len; ++q) {
        const T t = dot[q] * ia[q] * ib[q];
        ca[q] = g * t * ia[q] * ia[q] * da[q];
        cb[q] = g * t * ib[q] * ib[q] * db[q];
        sq[q] = g * ia[q] * ib[q];
      }
      for (int64_t ch = 0; ch < c; ++ch) {
        const T* ar = ai + ch * hw + p0;
        const T* br = bj + ch * hw + p0;
        if (gai) {
          T* out = gai + ch * hw + p0;
          for (int64_t q = 0; q < len; ++q) out[q] += br[q] * sq[q] - ar[q] * ca[q];
        }
        if (gb) {
          T* out = gb + j * c * hw + ch * hw + p0;
          for (int64_t q = 0; q < len; ++q) out[q] = ar[q] * sq[q] - br[q] * cb[q];
        }
      }
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
