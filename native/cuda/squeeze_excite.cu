// Fused squeeze-and-excitation on the GPU (cpu/squeeze_excite.h), replacing the composite's
// mean / linear / relu / linear / sigmoid / mul launches:
//   forward:  se_pool (one block per (n, c) plane sums it) and se_excite (each block recomputes its
//             image's tiny MLP into shared memory, then scales its slice of x);
//   backward: Σ gy·x per plane, one block for the MLP's backward (weights are reduced over the
//             batch in a fixed order: deterministic, no atomics), and gx = gy·s + gm / hw.
#include <cub/block/block_reduce.cuh>

#include <algorithm>
#include <cmath>

#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

// Shared-memory bound of se_excite's per-block MLP (the addon checks it before calling).
constexpr int64_t kMaxWidth = 1024;

template <typename T>
__device__ __forceinline__ T sigmoid(T z) {
  return T(1) / (T(1) + exp(-z));
}

// out[p] = scale · Σ_i a[p·hw + i] (· b[p·hw + i] when b is given), one block per plane.
template <typename T>
__global__ void plane_sum_kernel(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out, int64_t planes,
                                 int64_t hw, T scale) {
  using BlockReduce = cub::BlockReduce<T, kThreads>;
  __shared__ typename BlockReduce::TempStorage tmp;
  for (int64_t p = blockIdx.x; p < planes; p += gridDim.x) {
    const T* ap = a + p * hw;
    T acc = 0;
    if (b) {
      const T* bp = b + p * hw;
      for (int64_t i = threadIdx.x; i < hw; i += blockDim.x) acc += ap[i] * bp[i];
    } else {
      for (int64_t i = threadIdx.x; i < hw; i += blockDim.x) acc += ap[i];
    }
    acc = BlockReduce(tmp).Sum(acc);
    if (threadIdx.x == 0) out[p] = acc * scale;
    __syncthreads();  // tmp is reused by the next plane
  }
}

// One job = (image, chunk of its c·hw elements); a block recomputes the image's s (cheap: c·hidden·2
// multiply-adds, against at least `chunk` elements scaled) so the MLP needs no launch of its own.
template <typename T>
__global__ void se_excite_kernel(MpfSqueezeExcite s, const T* __restrict__ x, const T* __restrict__ m, T* __restrict__ y,
                                 int64_t chunk, int64_t chunks) {
  __shared__ T h[kMaxWidth];
  __shared__ T sc[kMaxWidth];
  const T *w1 = static_cast<const T*>(s.w1), *b1 = static_cast<const T*>(s.b1);
  const T *w2 = static_cast<const T*>(s.w2), *b2 = static_cast<const T*>(s.b2);
  const int64_t image = s.c * s.hw;
  for (int64_t job = blockIdx.x; job < s.n * chunks; job += gridDim.x) {
    const int64_t img = job / chunks, lo = (job % chunks) * chunk;
    const int64_t hi = lo + chunk < image ? lo + chunk : image;
    const T* mi = m + img * s.c;
    for (int64_t j = threadIdx.x; j < s.hidden; j += blockDim.x) {
      T a = b1 ? b1[j] : T(0);
      for (int64_t k = 0; k < s.c; ++k) a += w1[j * s.c + k] * mi[k];
      h[j] = a > T(0) ? a : T(0);
    }
    __syncthreads();
    for (int64_t ch = threadIdx.x; ch < s.c; ch += blockDim.x) {
      T z = b2 ? b2[ch] : T(0);
      for (int64_t j = 0; j < s.hidden; ++j) z += w2[ch * s.hidden + j] * h[j];
      sc[ch] = sigmoid(z);
    }
    __syncthreads();
    const T* xi = x + img * image;
    T* yi = y + img * image;
    for (int64_t e = lo + threadIdx.x; e < hi; e += blockDim.x) yi[e] = xi[e] * sc[e / s.hw];
    __syncthreads();  // h and sc are rewritten by the next job
  }
}

// The MLP's backward in one block, phase by phase (global scratch, __syncthreads between phases).
// gz holds Σ gy·x on entry and becomes the pre-sigmoid gradient.
template <typename T>
__global__ void se_mlp_backward_kernel(MpfSqueezeExcite s, const T* __restrict__ m, T* gz, T* sc, T* gm, T* hpre, T* gh,
                                       T* gw1, T* gb1, T* gw2, T* gb2) {
  const T *w1 = static_cast<const T*>(s.w1), *b1 = static_cast<const T*>(s.b1);
  const T *w2 = static_cast<const T*>(s.w2), *b2 = static_cast<const T*>(s.b2);
  const int64_t N = s.n, C = s.c, H = s.hidden;
  for (int64_t k = threadIdx.x; k < N * H; k += blockDim.x) {
    const int64_t i = k / H, j = k % H;
    T a = b1 ? b1[j] : T(0);
    for (int64_t q = 0; q < C; ++q) a += w1[j * C + q] * m[i * C + q];
    hpre[k] = a;
  }
  __syncthreads();
  for (int64_t k = threadIdx.x; k < N * C; k += blockDim.x) {
    const int64_t i = k / C, ch = k % C;
    T z = b2 ? b2[ch] : T(0);
    for (int64_t j = 0; j < H; ++j) z += w2[ch * H + j] * (hpre[i * H + j] > T(0) ? hpre[i * H + j] : T(0));
    const T g = sigmoid(z);
    sc[k] = g;
    gz[k] *= g * (T(1) - g);
  }
  __syncthreads();
  for (int64_t k = threadIdx.x; k < N * H; k += blockDim.x) {
    const int64_t i = k / H, j = k % H;
    T a = 0;
    if (hpre[k] > T(0))
      for (int64_t ch = 0; ch < C; ++ch) a += w2[ch * H + j] * gz[i * C + ch];
    gh[k] = a;
  }
  __syncthreads();
  if (gw2)
    for (int64_t k = threadIdx.x; k < C * H; k += blockDim.x) {
      const int64_t ch = k / H, j = k % H;
      T a = 0;
      for (int64_t i = 0; i < N; ++i) a += gz[i * C + ch] * (hpre[i * H + j] > T(0) ? hpre[i * H + j] : T(0));
      gw2[k] = a;
    }
  if (gb2)
    for (int64_t ch = threadIdx.x; ch < C; ch += blockDim.x) {
      T a = 0;
      for (int64_t i = 0; i < N; ++i) a += gz[i * C + ch];
      gb2[ch] = a;
    }
  if (gw1)
    for (int64_t k = threadIdx.x; k < H * C; k += blockDim.x) {
      const int64_t j = k / C, q = k % C;
      T a = 0;
      for (int64_t i = 0; i < N; ++i) a += gh[i * H + j] * m[i * C + q];
      gw1[k] = a;
    }
  if (gb1)
    for (int64_t j = threadIdx.x; j < H; j += blockDim.x) {
      T a = 0;
      for (int64_t i = 0; i < N; ++i) a += gh[i * H + j];
      gb1[j] = a;
    }
  for (int64_t k = threadIdx.x; k < N * C; k += blockDim.x) {
    const int64_t i = k / C, q = k % C;
    T a = 0;
    for (int64_t j = 0; j < H; ++j) a += w1[j * C + q] * gh[i * H + j];
    gm[k] = a / T(s.hw);
  }
}

// gx = gy·s + gm (gm already divided by hw): the direct path and the one through the mean.
template <typename T>
__global__ void se_input_grad_kernel(const T* __restrict__ gy, const T* __restrict__ sc, const T* __restrict__ gm,
                                     T* __restrict__ gx, int64_t hw, int64_t total) {
  MPF_GRID_LOOP(e, total) {
    const int64_t p = e / hw;
    gx[e] = gy[e] * sc[p] + gm[p];
  }
}

void check_width(const MpfSqueezeExcite* s) {
  if (s->c > kMaxWidth || s->hidden > kMaxWidth)
    throw std::invalid_argument(str("squeezeExcite: the CUDA kernel takes at most ", kMaxWidth, " channels and hidden units, got ",
                                    s->c, " and ", s->hidden));
}

}  // namespace

MpfErr se_pool(int32_t dt, const void* x, void* m, int64_t n, int64_t c, int64_t hw) {
  return guard([&] {
    if (n * c == 0) return;
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_capped(n * c), kThreads, plane_sum_kernel<T>)(static_cast<const T*>(x), nullptr, static_cast<T*>(m),
                                                                         n * c, hw, T(1) / T(hw));
    });
  });
}

MpfErr se_excite(int32_t dt, const MpfSqueezeExcite* s, const void* x, const void* m, void* y) {
  return guard([&] {
    check_width(s);
    const int64_t image = s->c * s->hw;
    if (s->n * image == 0) return;
    // At least 4 multiply-adds of scaling per one of the recomputed MLP, and 16 elements a thread.
    int64_t chunk = std::max<int64_t>(int64_t(kThreads) * 16, 4 * s->c * s->hidden);
    if (chunk > image) chunk = image;
    const int64_t chunks = (image + chunk - 1) / chunk;
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_capped(s->n * chunks), kThreads, se_excite_kernel<T>)(*s, static_cast<const T*>(x),
                                                                                static_cast<const T*>(m), static_cast<T*>(y),
                                                                                chunk, chunks);
    });
  });
}

MpfErr se_backward(int32_t dt, const MpfSqueezeExcite* s, const void* x, const void* m, const void* gy, void* gx, void* gw1,
                   void* gb1, void* gw2, void* gb2, void* scratch) {
  return guard([&] {
    const int64_t nc = s->n * s->c, nh = s->n * s->hidden;
    if (nc == 0) return;
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      T* gz = static_cast<T*>(scratch);
      T *sc = gz + nc, *gm = sc + nc, *hpre = gm + nc, *gh = hpre + nh;
      MPF_LAUNCH(blocks_capped(nc), kThreads, plane_sum_kernel<T>)(static_cast<const T*>(gy), static_cast<const T*>(x), gz, nc,
                                                                      s->hw, T(1));
      MPF_LAUNCH(1, kThreads, se_mlp_backward_kernel<T>)(*s, static_cast<const T*>(m), gz, sc, gm, hpre, gh,
                                                          static_cast<T*>(gw1), static_cast<T*>(gb1), static_cast<T*>(gw2),
                                                          static_cast<T*>(gb2));
      if (gx && s->hw > 0)
        MPF_LAUNCH(blocks_for(nc * s->hw), kThreads, se_input_grad_kernel<T>)(static_cast<const T*>(gy), sc, gm,
                                                                                static_cast<T*>(gx), s->hw, nc * s->hw);
    });
  });
}

}  // namespace mpf::cuda
