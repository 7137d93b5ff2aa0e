// Shape ops that move data on CPU: concatenation and split along a dim, the zero-padded gradient
// of one split piece, and pixel (un)shuffle.
#pragma once
#include <cstdint>
#include <vector>

namespace mpf::cpu {

// One tensor taking part in a cat or split, viewed as (outer, size * inner): its data and its
// size along the cat dim. data == nullptr stands for zeros (split's backward).
template <typename T>
struct Piece {
  T* data;
  int64_t size;
};

// out (outer, sum(size) * inner) = the pieces side by side along the middle dim.
template <typename T>
void cat_pieces(const std::vector<Piece<T>>& pieces, T* out, int64_t outer, int64_t inner);
// The inverse: pieces (each outer, size * inner) cut from x (outer, sum(size) * inner).
template <typename T>
void split_pieces(const T* x, const std::vector<Piece<T>>& pieces, int64_t outer, int64_t inner);

// y (N, C, H*r, W*r) from x (N, C*r*r, H, W): y[n][c][h*r+i][w*r+j] = x[n][c*r*r + i*r + j][h][w].
template <typename T>
void pixel_shuffle(const T* x, T* y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t r);
// The inverse (and the backward of pixel_shuffle): x from y with the same n, c, h, w, r.
template <typename T>
void pixel_unshuffle(const T* y, T* x, int64_t n, int64_t c, int64_t h, int64_t w, int64_t r);

}  // namespace mpf::cpu
