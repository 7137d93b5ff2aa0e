#include "cpu/matmul.h"

#include <algorithm>
#include <vector>

#include "common/thread_pool.h"
#include "cpu/gemm.h"

namespace mpf::cpu {

template <typename T>
void matmul_forward(int64_t M, int64_t K, int64_t N, const T* a, const T* b, T* c) {
  gemm<T>(false, false, M, N, K, a, K, b, N, c, N);
}

template <typename T>
void matmul_backward(int64_t M, int64_t K, int64_t N, const T* a, const T* b, const T* gc, T* ga, T* gb) {
  if (ga) gemm<T>(false, true, M, K, N, gc, N, b, N, ga, K);
  if (gb) gemm<T>(true, false, K, N, M, a, K, gc, N, gb, N);
}

template <typename T>
void linear_forward(int64_t rows, int64_t in, int64_t out, const T* x, const T* w, const T* bias, T* y) {
  gemm<T>(false, true, rows, out, in, x, in, w, in, y, out, false, nullptr, bias);
}

template <typename T>
void linear_backward(int64_t rows, int64_t in, int64_t out, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gbias) {
  if (gx) gemm<T>(false, false, rows, in, out, gy, out, w, in, gx, in);
  if (gw) gemm<T>(true, false, out, in, rows, gy, out, x, in, gw, in);
  if (gbias) {
    // Column sums in double, over column blocks so each thread owns its outputs.
    parallel_for(out, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, rows)), [&](int64_t c0, int64_t c1) {
      std::vector<double> acc(static_cast<size_t>(c1 - c0), 0.0);
      for (int64_t r = 0; r < rows; ++r) {
        const T* g = gy + r * out;
        for (int64_t c = c0; c < c1; ++c) acc[size_t(c - c0)] += double(g[c]);
      }
      for (int64_t c = c0; c < c1; ++c) gbias[c] = T(acc[size_t(c - c0)]);
    });
  }
}

#define MPF_MATMUL(T)                                                                                        \
  template void matmul_forward<T>(int64_t, int64_t, int64_t, const T*, const T*, T*);                       \
  template void matmul_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, T*, T*);        \
  template void linear_forward<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, T*);             \
  template void linear_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, T*, T*, T*);
MPF_MATMUL(float)
MPF_MATMUL(double)
#undef MPF_MATMUL

}  // namespace mpf::cpu
