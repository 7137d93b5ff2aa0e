#include "cpu/shape.h"

#include <algorithm>
#include <cstring>

#include "common/thread_pool.h"

namespace mpf::cpu {
namespace {

constexpr int64_t kCopyGrain = 1 << 15;  // elements per task for copies

// Walks the concatenated layout (outer rows of sum(size) * inner) in parallel, calling
// move(flat, piece, offset_in_piece, n) for each stretch that lies in one piece.
template <typename T, class Move>
void walk_pieces(const std::vector<Piece<T>>& pieces, int64_t outer, int64_t inner, Move&& move) {
  std::vector<int64_t> begin(pieces.size() + 1, 0);  // piece k spans [begin[k], begin[k+1]) of a row
  for (size_t k = 0; k < pieces.size(); ++k) begin[k + 1] = begin[k] + pieces[k].size * inner;
  const int64_t row = begin.back();
  parallel_for(outer * row, kCopyGrain, [&](int64_t lo, int64_t hi) {
    int64_t i = lo;
    size_t k = 0;
    while (i < hi) {
      const int64_t o = i / row, c = i % row;
      while (begin[k + 1] <= c) ++k;
      while (begin[k] > c) --k;
      const int64_t len = begin[k + 1] - begin[k];
      const int64_t n = std::min(begin[k + 1] - c, hi - i);
      move(i, pieces[k], o * len + (c - begin[k]), n);
      i += n;
      if (c + n == row) k = 0;
    }
  });
}

}  // namespace

template <typename T>
void cat_pieces(const std::vector<Piece<T>>& pieces, T* out, int64_t outer, int64_t inner) {
  walk_pieces(pieces, outer, inner, [&](int64_t flat, const Piece<T>& p, int64_t at, int64_t n) {
    if (p.data) std::memcpy(out + flat, p.data + at, size_t(n) * sizeof(T));
    else std::fill(out + flat, out + flat + n, T(0));
  });
}

template <typename T>
void split_pieces(const T* x, const std::vector<Piece<T>>& pieces, int64_t outer, int64_t inner) {
  walk_pieces(pieces, outer, inner, [&](int64_t flat, const Piece<T>& p, int64_t at, int64_t n) {
    if (p.data) std::memcpy(p.data + at, x + flat, size_t(n) * sizeof(T));
  });
}

// Both directions walk the rows of y: (n, c, h, i) -> y row of w*r values gathered from (or
// scattered to) r rows of x, one per j. `to_y` picks the direction.
template <typename T, bool TO_Y>
static void shuffle_rows(T* x, T* y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t r) {
  const int64_t rows = n * c * h * r, wr = w * r, plane = h * w;
  parallel_for(rows, std::max<int64_t>(1, kCopyGrain / wr), [&](int64_t lo, int64_t hi) {
    for (int64_t row = lo; row < hi; ++row) {
      const int64_t i = row % r, hh = (row / r) % h, nc = row / (r * h);  // nc = n * c + c
      T* yr = y + row * wr;
      T* xr = x + (nc * r * r + i * r) * plane + hh * w;  // x row of plane (c*r*r + i*r + 0)
      for (int64_t j = 0; j < r; ++j) {
        T* src = xr + j * plane;
        if constexpr (TO_Y) {
          for (int64_t ww = 0; ww < w; ++ww) yr[ww * r + j] = src[ww];
        } else {
          for (int64_t ww = 0; ww < w; ++ww) src[ww] = yr[ww * r + j];
        }
      }
    }
  });
}

template <typename T>
void pixel_shuffle(const T* x, T* y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t r) {
  shuffle_rows<T, true>(const_cast<T*>(x), y, n, c, h, w, r);
}

template <typename T>
void pixel_unshuffle(const T* y, T* x, int64_t n, int64_t c, int64_t h, int64_t w, int64_t r) {
  shuffle_rows<T, false>(x, const_cast<T*>(y), n, c, h, w, r);
}

#define MPF_INSTANTIATE(T)                                                                  \
  template void cat_pieces<T>(const std::vector<Piece<T>>&, T*, int64_t, int64_t);         \
  template void split_pieces<T>(const T*, const std::vector<Piece<T>>&, int64_t, int64_t); \
  template void pixel_shuffle<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t); \
  template void pixel_unshuffle<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t);
MPF_INSTANTIATE(float)
MPF_INSTANTIATE(double)
#undef MPF_INSTANTIATE

}  // namespace mpf::cpu
