// The per-pixel normalised similarity of contrastive regularisation on the GPU
// (cpu/cr_similarity.h), with the CPU's arithmetic: norms and dot products in double, norms
// clamped at eps. Forward: one block per sample sums its pixels (cub::BlockReduce). Backward: one
// thread per (sample, pixel) computes the pixel's coefficients and writes gb; then one thread per
// anchor element sums its samples' terms in sample order (no atomics).
#include <cub/block/block_reduce.cuh>

#include <cmath>

#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

// Σ_c u·v, Σ_c u², Σ_c v² at pixel p of two (c, hw) stacks.
template <typename T>
__device__ void pixel_sums(const T* u, const T* v, int64_t c, int64_t hw, int64_t p, double& dot, double& su, double& sv) {
  dot = su = sv = 0;
  for (int64_t ch = 0; ch < c; ++ch) {
    const double a = double(u[ch * hw + p]), b = double(v[ch * hw + p]);
    dot += a * b;
    su += a * a;
    sv += b * b;
  }
}

template <typename T>
__global__ void cr_similarity_forward_kernel(const T* __restrict__ a, const T* __restrict__ b, const int64_t* __restrict__ index,
                                             T* __restrict__ s, int64_t m, int64_t c, int64_t hw, double eps) {
  using BlockReduce = cub::BlockReduce<double, kThreads>;
  __shared__ typename BlockReduce::TempStorage tmp;
  for (int64_t j = blockIdx.x; j < m; j += gridDim.x) {
    const T* ai = a + index[j] * c * hw;
    const T* bj = b + j * c * hw;
    double acc = 0;
    for (int64_t p = threadIdx.x; p < hw; p += blockDim.x) {
      double dot, sa, sb;
      pixel_sums(ai, bj, c, hw, p, dot, sa, sb);
      acc += dot / std::fmax(std::sqrt(sa), eps) / std::fmax(std::sqrt(sb), eps);
    }
    acc = BlockReduce(tmp).Sum(acc);
    if (threadIdx.x == 0) s[j] = T(acc / double(hw));
    __syncthreads();
  }
}

// Per (sample j, pixel p): with t = â·b̂, ∂t/∂a = b·(ib·ia) − a·(t·ia²) and symmetrically for b;
// cab and ca go to scratch for the anchors' pass, gb is written here.
template <typename T>
__global__ void cr_similarity_coef_kernel(const T* __restrict__ a, const T* __restrict__ b, const int64_t* __restrict__ index,
                                          const T* __restrict__ gs, T* __restrict__ gb, double* __restrict__ cab,
                                          double* __restrict__ ca, int64_t m, int64_t c, int64_t hw, double eps) {
  MPF_GRID_LOOP(e, m * hw) {
    int64_t j, p;
    divmod(e, hw, j, p);
    const T* ai = a + index[j] * c * hw;
    const T* bj = b + j * c * hw;
    double dot, sa, sb;
    pixel_sums(ai, bj, c, hw, p, dot, sa, sb);
    const double ia = 1.0 / std::fmax(std::sqrt(sa), eps), ib = 1.0 / std::fmax(std::sqrt(sb), eps);
    const double g = double(gs[j]) / double(hw);
    const double t = dot * ia * ib;
    const double cj_ab = g * ia * ib;
    const double cj_a = (ia < 1.0 / eps) ? g * t * ia * ia : 0.0;
    const double cj_b = (ib < 1.0 / eps) ? g * t * ib * ib : 0.0;
    cab[e] = cj_ab;
    ca[e] = cj_a;
    if (gb)
      for (int64_t ch = 0; ch < c; ++ch) {
        const int64_t o = ch * hw + p;
        gb[j * c * hw + o] = T(double(ai[o]) * cj_ab - double(bj[o]) * cj_b);
      }
  }
}

template <typename T>
__global__ void cr_similarity_anchor_kernel(const T* __restrict__ a, const T* __restrict__ b, const int64_t* __restrict__ index,
                                            const double* __restrict__ cab, const double* __restrict__ ca, T* __restrict__ ga,
                                            int64_t n, int64_t m, int64_t c, int64_t hw) {
  MPF_GRID_LOOP(e, n * c * hw) {
    int64_t i, rest, ch, p;
    divmod(e, c * hw, i, rest);
    divmod(rest, hw, ch, p);
    const double av = double(a[e]);
    double acc = 0;
    for (int64_t j = 0; j < m; ++j) {
      if (index[j] != i) continue;
      acc += double(b[(j * c + ch) * hw + p]) * cab[j * hw + p] - av * ca[j * hw + p];
    }
    ga[e] = T(acc);
  }
}

}  // namespace

MpfErr cr_similarity_forward(int32_t dt, const void* a, const void* b, const int64_t* index, void* s, int64_t m, int64_t c,
                             int64_t hw, double eps) {
  return guard([&] {
    Scratch idx = upload(index, size_t(m) * sizeof(int64_t));
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      if (m == 0) return;  // no pairs: nothing to launch
      MPF_LAUNCH(blocks_capped(m), kThreads, cr_similarity_forward_kernel<T>)(
          static_cast<const T*>(a), static_cast<const T*>(b), idx.get<int64_t>(), static_cast<T*>(s), m, c, hw, eps);
    });
  });
}

MpfErr cr_similarity_backward(int32_t dt, const void* a, const void* b, const int64_t* index, const void* gs, void* ga,
                              void* gb, int64_t n, int64_t m, int64_t c, int64_t hw, double eps) {
  return guard([&] {
    Scratch idx = upload(index, size_t(m) * sizeof(int64_t));
    Scratch cab(size_t(m * hw) * sizeof(double)), ca(size_t(m * hw) * sizeof(double));
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(m * hw), kThreads, cr_similarity_coef_kernel<T>)(
          static_cast<const T*>(a), static_cast<const T*>(b), idx.get<int64_t>(), static_cast<const T*>(gs), static_cast<T*>(gb),
          cab.get<double>(), ca.get<double>(), m, c, hw, eps);
      if (ga)
        MPF_LAUNCH(blocks_for(n * c * hw), kThreads, cr_similarity_anchor_kernel<T>)(
            static_cast<const T*>(a), static_cast<const T*>(b), idx.get<int64_t>(), cab.get<double>(), ca.get<double>(),
            static_cast<T*>(ga), n, m, c, hw);
    });
  });
}

}  // namespace mpf::cuda
