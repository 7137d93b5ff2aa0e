// The one-axis resize on the GPU: the addon builds the sparse matrix on the host (cpu/resize.h,
// MATLAB's weights), this applies it along the middle axis of x viewed as (outer, cols, inner).
// Weights are converted to T first and the sums run in T, in entry order, as on the CPU.
#include <vector>

#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

template <typename T>
__global__ void resize_kernel(const int64_t* __restrict__ row_start, const int64_t* __restrict__ col,
                              const T* __restrict__ weight, int64_t rows, int64_t cols, const T* __restrict__ x,
                              T* __restrict__ y, int64_t inner, int64_t total) {
  MPF_GRID_LOOP(e, total) {
    int64_t t, i, o, r;
    divmod(e, inner, t, i);
    divmod(t, rows, o, r);
    const T* xs = x + o * cols * inner + i;
    T acc = 0;
    for (int64_t k = row_start[r]; k < row_start[r + 1]; ++k) acc += weight[k] * xs[col[k] * inner];
    y[e] = acc;
  }
}

}  // namespace

MpfErr resize_apply(int32_t dt, const int64_t* row_start, const int64_t* col, const double* weight, int64_t rows,
                    int64_t cols, const void* x, void* y, int64_t outer, int64_t inner) {
  return guard([&] {
    const int64_t nnz = row_start[rows];
    Scratch rs = upload(row_start, size_t(rows + 1) * sizeof(int64_t));
    Scratch cs = upload(col, size_t(nnz > 0 ? nnz : 1) * sizeof(int64_t));
    const int64_t total = outer * rows * inner;
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      std::vector<T> w(weight, weight + nnz);
      w.resize(size_t(nnz > 0 ? nnz : 1));
      Scratch ws = upload(w.data(), w.size() * sizeof(T));
      MPF_LAUNCH(blocks_for(total), kThreads, resize_kernel<T>)(rs.get<int64_t>(), cs.get<int64_t>(), ws.get<T>(), rows,
                                                                     cols, static_cast<const T*>(x), static_cast<T*>(y), inner,
                                                                     total);
    });
  });
}

}  // namespace mpf::cuda
