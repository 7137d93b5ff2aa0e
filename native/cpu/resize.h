// MATLAB-compatible imresize along one axis (the image toolbox's documented algorithm): for output
// index o (1-based) the source position is u = o/scale + (1 - 1/scale)/2; the kernel taps
// floor(u - width/2) + 0..ceil(width)+1 are weighted by the kernel at u - tap, normalised to sum 1,
// and taps outside the input are mirrored with the edge sample repeated (symmetric padding). When
// shrinking with antialiasing the kernel is stretched by 1/scale and scaled by scale.
// A 2-D resize is two such passes (lib/ops/resize.ts orders them as MATLAB does).
//
// The map is linear, so it is stored as a sparse matrix (CSR: rows = output samples); the backward
// pass is the same gather kernel run with the transposed matrix (the adjoint).
#pragma once
#include <cstdint>
#include <vector>

namespace mpf::cpu {

enum class ResizeKernel : int { Cubic = 0, Linear = 1, Box = 2, Lanczos2 = 3, Lanczos3 = 4, Count = 5 };

// Rows of a sparse linear map from `cols` inputs to `rows` outputs.
struct ResizeMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> row_start;  // rows + 1 entries
  std::vector<int64_t> col;        // input index of each entry
  std::vector<double> weight;
};

// The forward map of one axis: in_len samples -> out_len samples.
ResizeMatrix resize_matrix(int64_t in_len, int64_t out_len, double scale, ResizeKernel kernel, bool antialias);
// The transpose (adjoint) of m.
ResizeMatrix transpose(const ResizeMatrix& m);

// y[o, r, i] = sum_e m.weight[e] * x[o, m.col[e], i] over the entries e of row r, for a tensor
// viewed as [outer, m.cols, inner] -> [outer, m.rows, inner].
template <typename T>
void resize_apply(const ResizeMatrix& m, const T* x, T* y, int64_t outer, int64_t inner);

}  // namespace mpf::cpu
