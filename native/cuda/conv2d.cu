// Convolutions on the GPU: the dispatch between cuDNN (conv2d_cudnn.cu) and the plugin's own
// implicit-GEMM kernels below, which every build has (no cuDNN found, or MPFNET_CUDA_CONV=own).
//
// The own kernels are the tile scheme of tile.cuh with im2col done on the fly while loading tiles,
// so no unfolded matrix is ever stored, and the input may be several tensors that together form
// the channels (read in place, up to kMaxParts; more are concatenated into scratch first):
//   forward          C[co][n,oy,ox]    = Σ_(ci,ky,kx) w[co][ci,ky,kx] · x[n][ci][oy·s−p+ky·d][ox·s−p+kx·d]
//   backward data    C[ci][n,iy,ix]    = Σ_(co,ky,kx) w[co][ci,ky,kx] · gy[n][co][oy][ox], where
//                                        oy·s = iy + p − ky·d (skipped when not a whole oy in range)
//   backward weight  C[co][ci,ky,kx]   = Σ_(n,oy,ox) gy[n][co][oy][ox] · x[n][ci][iy][ix], split
//                                        over K (N·OH·OW is long, C is small) and summed in order
// Each thread keeps the decomposition of its fixed tile columns in registers and decomposes one
// row index per K step, so the index arithmetic stays small next to the multiply-adds.
#include <string>

#include "common/unary_math.h"
#include "cuda/common.cuh"
#include "cuda/conv2d.cuh"
#include "cuda/ops.h"
#include "cuda/reduce.cuh"
#include "cuda/tile.cuh"

namespace mpf::cuda {
namespace {

using namespace tile;

constexpr int kMaxParts = 8;

template <typename T>
struct Parts {
  const T* x[kMaxParts];
  T* gx[kMaxParts];
  int64_t start[kMaxParts + 1];  // first channel of each part; start[n] = C
  int n;
};

struct Geom {
  int64_t N, C, H, W, CO, KH, KW, sh, sw, ph, pw, dh, dw, OH, OW;
  int32_t act;  // forward epilogue: MPF_ACT_NONE / MPF_ACT_SELU
};

Geom geom(const MpfConv2d& s) {
  return Geom{s.batch,    total_in_channels(s), s.in_h,  s.in_w,  s.out_channels, s.kernel_h, s.kernel_w, s.stride_h,
              s.stride_w, s.pad_h,              s.pad_w, s.dilation_h, s.dilation_w, s.out_h, s.out_w, s.activation};
}

template <typename T>
Parts<T> make_parts(const MpfConv2d& s, const T* const* xs, T* const* gxs) {
  Parts<T> p{};
  p.n = s.parts;
  int64_t c = 0;
  for (int j = 0; j < s.parts; ++j) {
    p.start[j] = c;
    p.x[j] = xs ? xs[j] : nullptr;
    p.gx[j] = gxs ? gxs[j] : nullptr;
    c += s.in_channels[j];
  }
  p.start[s.parts] = c;
  return p;
}

__device__ __forceinline__ int part_of(const int64_t* start, int n, int64_t c) {
  int j = 0;
  while (j + 1 < n && c >= start[j + 1]) ++j;
  return j;
}

// The forward's activation, on a value that already has its bias (the CPU's SELU formula).
template <typename T>
__device__ __forceinline__ T epilogue(T v, int32_t act) {
  return act == MPF_ACT_SELU ? Unary<UnaryOp::Selu, T>::fwd(v, T(0), T(0)) : v;
}

// y = act(y + b[c]) in place over (planes = N·C, HW): the epilogue of a convolution that cuDNN
// computed. Blocks stride over the planes (y) and each plane's pixels (x), so a plane's channel is
// one division per plane, not a 64-bit division per element.
template <typename T>
__global__ void bias_activation_kernel(T* __restrict__ y, const T* __restrict__ b, int64_t C, int64_t HW, int64_t planes,
                                       int32_t act) {
  for (int64_t p = blockIdx.y; p < planes; p += gridDim.y) {
    T* plane = y + p * HW;
    const T bv = b ? b[p % C] : T(0);
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < HW; i += int64_t(gridDim.x) * blockDim.x)
      plane[i] = epilogue(b ? plane[i] + bv : plane[i], act);
  }
}

template <typename T>
__global__ void __launch_bounds__(THREADS) conv_forward_kernel(Parts<T> P, Geom g, const T* __restrict__ w,
                                                               const T* __restrict__ bias, T* __restrict__ y) {
  __shared__ Smem<T> s;
  const int t = threadIdx.x;
  const int64_t KHW = g.KH * g.KW, OHW = g.OH * g.OW;
  const int64_t M = g.CO, NP = g.N * OHW, K = g.C * KHW;
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
  int64_t img[TN], q[TN], iy0[TN], ix0[TN];
  bool valid[TN];
#pragma unroll
  for (int j = 0; j < TN; ++j) {
    const int64_t p = n0 + b_col(t) + j;
    valid[j] = p < NP;
    int64_t oy = 0, ox = 0;
    img[j] = q[j] = 0;
    if (valid[j]) {
      divmod(p, OHW, img[j], q[j]);
      divmod(q[j], g.OW, oy, ox);
    }
    iy0[j] = oy * g.sh - g.ph;
    ix0[j] = ox * g.sw - g.pw;
  }
  const int64_t am = m0 + a_row(t);
  T acc[TM][TN] = {};
  for (int64_t k0 = 0; k0 < K; k0 += BK) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int64_t k = k0 + a_col(t) + i;
      s.a[a_col(t) + i][a_row(t)] = (am < M && k < K) ? w[am * K + k] : T(0);
    }
    const int64_t k = k0 + b_row(t);
    if (k < K) {
      int64_t ci, r, ky, kx;
      divmod(k, KHW, ci, r);
      divmod(r, g.KW, ky, kx);
      const int part = part_of(P.start, P.n, ci);
      const int64_t cj = ci - P.start[part], Cj = P.start[part + 1] - P.start[part];
      const T* xp = P.x[part];
      const int64_t dy = ky * g.dh, dx = kx * g.dw;
#pragma unroll
      for (int j = 0; j < TN; ++j) {
        const int64_t iy = iy0[j] + dy, ix = ix0[j] + dx;
        const bool in = valid[j] && iy >= 0 && iy < g.H && ix >= 0 && ix < g.W;
        s.b[b_row(t)][b_col(t) + j] = in ? xp[((img[j] * Cj + cj) * g.H + iy) * g.W + ix] : T(0);
      }
    } else {
#pragma unroll
      for (int j = 0; j < TN; ++j) s.b[b_row(t)][b_col(t) + j] = T(0);
    }
    __syncthreads();
    multiply(s, t, acc);
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int64_t m = m0 + c_row(t) + i;
    if (m >= M) continue;
    const T bv = bias ? bias[m] : T(0);
#pragma unroll
    for (int j = 0; j < TN; ++j)
      if (valid[j]) y[(img[j] * g.CO + m) * OHW + q[j]] = epilogue(acc[i][j] + bv, g.act);
  }
}

template <typename T>
__global__ void __launch_bounds__(THREADS) conv_backward_data_kernel(Parts<T> P, Geom g, const T* __restrict__ w,
                                                                     const T* __restrict__ gy) {
  __shared__ Smem<T> s;
  const int t = threadIdx.x;
  const int64_t KHW = g.KH * g.KW, HW = g.H * g.W;
  const int64_t M = g.C, NP = g.N * HW, K = g.CO * KHW;
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
  int64_t img[TN], q[TN], iy[TN], ix[TN];
  bool valid[TN];
#pragma unroll
  for (int j = 0; j < TN; ++j) {
    const int64_t p = n0 + b_col(t) + j;
    valid[j] = p < NP;
    img[j] = q[j] = iy[j] = ix[j] = 0;
    if (valid[j]) {
      divmod(p, HW, img[j], q[j]);
      divmod(q[j], g.W, iy[j], ix[j]);
    }
  }
  const int64_t am = m0 + a_row(t);
  T acc[TM][TN] = {};
  for (int64_t k0 = 0; k0 < K; k0 += BK) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int64_t k = k0 + a_col(t) + i;
      T v = T(0);
      if (am < M && k < K) {
        int64_t co, r;
        divmod(k, KHW, co, r);
        v = w[(co * g.C + am) * KHW + r];
      }
      s.a[a_col(t) + i][a_row(t)] = v;
    }
    const int64_t k = k0 + b_row(t);
    if (k < K) {
      int64_t co, r, ky, kx;
      divmod(k, KHW, co, r);
      divmod(r, g.KW, ky, kx);
      const T* gp = gy + co * g.OH * g.OW;
#pragma unroll
      for (int j = 0; j < TN; ++j) {
        const int64_t ty = iy[j] + g.ph - ky * g.dh, tx = ix[j] + g.pw - kx * g.dw;
        bool ok = valid[j] && ty >= 0 && tx >= 0;
        int64_t oy = ty, ox = tx;
        if (g.sh != 1) {
          ok = ok && ty % g.sh == 0;
          oy = ty / g.sh;
        }
        if (g.sw != 1) {
          ok = ok && tx % g.sw == 0;
          ox = tx / g.sw;
        }
        ok = ok && oy < g.OH && ox < g.OW;
        s.b[b_row(t)][b_col(t) + j] = ok ? gp[(img[j] * g.CO * g.OH + oy) * g.OW + ox] : T(0);
      }
    } else {
#pragma unroll
      for (int j = 0; j < TN; ++j) s.b[b_row(t)][b_col(t) + j] = T(0);
    }
    __syncthreads();
    multiply(s, t, acc);
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int64_t ci = m0 + c_row(t) + i;
    if (ci >= M) continue;
    const int part = part_of(P.start, P.n, ci);
    T* out = P.gx[part];
    if (!out) continue;
    const int64_t cj = ci - P.start[part], Cj = P.start[part + 1] - P.start[part];
#pragma unroll
    for (int j = 0; j < TN; ++j)
      if (valid[j]) out[(img[j] * Cj + cj) * HW + q[j]] = acc[i][j];
  }
}

// One K slice per blockIdx.z; out is gw when there is one slice, else slice z of the partials.
template <typename T>
__global__ void __launch_bounds__(THREADS) conv_backward_weight_kernel(Parts<T> P, Geom g, const T* __restrict__ gy,
                                                                       T* __restrict__ out, int64_t k_per_split) {
  __shared__ Smem<T> s;
  const int t = threadIdx.x;
  const int64_t KHW = g.KH * g.KW, OHW = g.OH * g.OW, HW = g.H * g.W;
  const int64_t M = g.CO, NC = g.C * KHW, K = g.N * OHW;
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
  const int64_t kbeg = int64_t(blockIdx.z) * k_per_split;
  const int64_t kend = kbeg + k_per_split < K ? kbeg + k_per_split : K;
  const T* xbase[TN];
  int64_t img_stride[TN], dy[TN], dx[TN];
  bool valid[TN];
#pragma unroll
  for (int j = 0; j < TN; ++j) {
    const int64_t col = n0 + b_col(t) + j;
    valid[j] = col < NC;
    xbase[j] = nullptr;
    img_stride[j] = dy[j] = dx[j] = 0;
    if (valid[j]) {
      int64_t ci, r, ky, kx;
      divmod(col, KHW, ci, r);
      divmod(r, g.KW, ky, kx);
      const int part = part_of(P.start, P.n, ci);
      const int64_t cj = ci - P.start[part], Cj = P.start[part + 1] - P.start[part];
      xbase[j] = P.x[part] + cj * HW;
      img_stride[j] = Cj * HW;
      dy[j] = ky * g.dh - g.ph;
      dx[j] = kx * g.dw - g.pw;
    }
  }
  const int64_t am = m0 + a_row(t);
  T acc[TM][TN] = {};
  for (int64_t k0 = kbeg; k0 < kend; k0 += BK) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int64_t k = k0 + a_col(t) + i;
      T v = T(0);
      if (am < M && k < kend) {
        int64_t n, qq;
        divmod(k, OHW, n, qq);
        v = gy[(n * g.CO + am) * OHW + qq];
      }
      s.a[a_col(t) + i][a_row(t)] = v;
    }
    const int64_t k = k0 + b_row(t);
    if (k < kend) {
      int64_t n, qq, oy, ox;
      divmod(k, OHW, n, qq);
      divmod(qq, g.OW, oy, ox);
#pragma unroll
      for (int j = 0; j < TN; ++j) {
        const int64_t iy = oy * g.sh + dy[j], ix = ox * g.sw + dx[j];
        const bool in = valid[j] && iy >= 0 && iy < g.H && ix >= 0 && ix < g.W;
        s.b[b_row(t)][b_col(t) + j] = in ? xbase[j][n * img_stride[j] + iy * g.W + ix] : T(0);
      }
    } else {
#pragma unroll
      for (int j = 0; j < TN; ++j) s.b[b_row(t)][b_col(t) + j] = T(0);
    }
    __syncthreads();
    multiply(s, t, acc);
    __syncthreads();
  }
  T* dst = out + int64_t(blockIdx.z) * M * NC;
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int64_t m = m0 + c_row(t) + i;
    if (m >= M) continue;
#pragma unroll
    for (int j = 0; j < TN; ++j)
      if (valid[j]) dst[m * NC + n0 + c_col(t) + j] = acc[i][j];
  }
}

template <typename T>
__global__ void sum_slices_kernel(const T* __restrict__ partial, T* __restrict__ gw, int64_t n, int64_t slices) {
  MPF_GRID_LOOP(i, n) {
    T s = 0;
    for (int64_t z = 0; z < slices; ++z) s += partial[z * n + i];
    gw[i] = s;
  }
}

unsigned tiles(int64_t n, int64_t t) { return unsigned((n + t - 1) / t); }

void check_grid(unsigned rows, const char* what) {
  if (rows > 65535) throw std::invalid_argument(str("conv2d: too many ", what, " for one launch"));
}

}  // namespace

int64_t total_in_channels(const MpfConv2d& s) {
  int64_t c = 0;
  for (int j = 0; j < s.parts; ++j) c += s.in_channels[j];
  return c;
}

template <typename T>
void concat_parts(const MpfConv2d& s, const T* const* xs, T* out) {
  const int64_t hw = s.in_h * s.in_w, c = total_in_channels(s);
  int64_t c0 = 0;
  for (int j = 0; j < s.parts; ++j) {
    const size_t row = size_t(s.in_channels[j] * hw) * sizeof(T);
    copy_rows(out + c0 * hw, size_t(c * hw) * sizeof(T), xs[j], row, row, size_t(s.batch), "conv2d: concatenating input parts");
    c0 += s.in_channels[j];
  }
}

template <typename T>
void split_parts(const MpfConv2d& s, const T* in, T* const* outs) {
  const int64_t hw = s.in_h * s.in_w, c = total_in_channels(s);
  int64_t c0 = 0;
  for (int j = 0; j < s.parts; ++j) {
    const size_t row = size_t(s.in_channels[j] * hw) * sizeof(T);
    if (outs[j])
      copy_rows(outs[j], row, in + c0 * hw, size_t(c * hw) * sizeof(T), row, size_t(s.batch), "conv2d: splitting the input gradient");
    c0 += s.in_channels[j];
  }
}

template <typename T>
void bias_activation(const MpfConv2d& s, const T* b, T* y) {
  if (!b && s.activation == MPF_ACT_NONE) return;
  const int64_t planes = s.batch * s.out_channels, hw = s.out_h * s.out_w;
  if (planes == 0 || hw == 0) return;
  const dim3 grid(blocks_for(hw), blocks_capped(planes));
  MPF_LAUNCH(grid, kThreads, bias_activation_kernel<T>)(y, b, s.out_channels, hw, planes, s.activation);
}

template <typename T>
void own_conv2d_forward(const MpfConv2d& s, const T* const* xs, const T* w, const T* b, T* y) {
  const Geom g = geom(s);
  if (s.parts > kMaxParts) {
    Scratch cat(size_t(g.N * g.C * g.H * g.W) * sizeof(T));
    concat_parts(s, xs, cat.get<T>());
    MpfConv2d one = s;
    one.parts = 1;
    one.in_channels = &g.C;
    const T* p = cat.get<T>();
    own_conv2d_forward<T>(one, &p, w, b, y);
    return;
  }
  const dim3 grid(tiles(g.N * g.OH * g.OW, BN), tiles(g.CO, BM));
  check_grid(grid.y, "output channels");
  MPF_LAUNCH(grid, THREADS, conv_forward_kernel<T>)(make_parts<T>(s, xs, nullptr), g, w, b, y);
}

template <typename T>
void own_conv2d_backward_data(const MpfConv2d& s, const T* w, const T* gy, T* const* gxs) {
  const Geom g = geom(s);
  if (s.parts > kMaxParts) {
    Scratch full(size_t(g.N * g.C * g.H * g.W) * sizeof(T));
    MpfConv2d one = s;
    one.parts = 1;
    one.in_channels = &g.C;
    T* p = full.get<T>();
    own_conv2d_backward_data<T>(one, w, gy, &p);
    split_parts(s, full.get<T>(), gxs);
    return;
  }
  const dim3 grid(tiles(g.N * g.H * g.W, BN), tiles(g.C, BM));
  check_grid(grid.y, "input channels");
  MPF_LAUNCH(grid, THREADS, conv_backward_data_kernel<T>)(make_parts<T>(s, nullptr, gxs), g, w, gy);
}

template <typename T>
void own_conv2d_backward_weight(const MpfConv2d& s, const T* const* xs, const T* gy, T* gw) {
  const Geom g = geom(s);
  if (s.parts > kMaxParts) {
    Scratch cat(size_t(g.N * g.C * g.H * g.W) * sizeof(T));
    concat_parts(s, xs, cat.get<T>());
    MpfConv2d one = s;
    one.parts = 1;
    one.in_channels = &g.C;
    const T* p = cat.get<T>();
    own_conv2d_backward_weight<T>(one, &p, gy, gw);
    return;
  }
  const int64_t M = g.CO, NC = g.C * g.KH * g.KW, K = g.N * g.OH * g.OW;
  const dim3 grid2(tiles(NC, BN), tiles(M, BM));
  check_grid(grid2.y, "output channels");
  // Enough K slices for about four blocks per SM, each slice at least 512 long.
  const int64_t tiles_mn = int64_t(grid2.x) * grid2.y;
  int64_t slices = (4 * int64_t(sm_count()) + tiles_mn - 1) / tiles_mn;
  const int64_t max_slices = (K + 511) / 512;
  if (slices > max_slices) slices = max_slices;
  if (slices > 256) slices = 256;
  if (slices < 1) slices = 1;
  int64_t per = (K + slices - 1) / slices;
  per = (per + BK - 1) / BK * BK;
  slices = (K + per - 1) / per;
  const dim3 grid(grid2.x, grid2.y, unsigned(slices));
  const Parts<T> P = make_parts<T>(s, xs, nullptr);
  if (slices == 1) {
    MPF_LAUNCH(grid, THREADS, conv_backward_weight_kernel<T>)(P, g, gy, gw, per);
    return;
  }
  Scratch partial(size_t(slices * M * NC) * sizeof(T));
  MPF_LAUNCH(grid, THREADS, conv_backward_weight_kernel<T>)(P, g, gy, partial.get<T>(), per);
  MPF_LAUNCH(blocks_for(M * NC), kThreads, sum_slices_kernel<T>)(partial.get<T>(), gw, M * NC, slices);
}

#define MPF_INSTANTIATE(T)                                                                                     \
  template void concat_parts<T>(const MpfConv2d&, const T* const*, T*);                                        \
  template void split_parts<T>(const MpfConv2d&, const T*, T* const*);                                         \
  template void bias_activation<T>(const MpfConv2d&, const T*, T*);                                            \
  template void own_conv2d_forward<T>(const MpfConv2d&, const T* const*, const T*, const T*, T*);              \
  template void own_conv2d_backward_data<T>(const MpfConv2d&, const T*, const T*, T* const*);                  \
  template void own_conv2d_backward_weight<T>(const MpfConv2d&, const T* const*, const T*, T*);
MPF_INSTANTIATE(float)
MPF_INSTANTIATE(double)
#undef MPF_INSTANTIATE

#ifndef MPF_HAVE_CUDNN
int32_t cudnn_version() { return 0; }
bool cudnn_ready() { return false; }
std::string cudnn_init(cudaStream_t) { return "the plugin was built without cuDNN (CMake did not find it)"; }
#endif

namespace {

bool use_cudnn() {
#ifdef MPF_HAVE_CUDNN
  return options().conv_engine == 0 && cudnn_ready();
#else
  return false;
#endif
}

template <typename F>
MpfErr run_conv(int32_t dt, F&& f) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) { f(tag); });
  });
}

}  // namespace

MpfErr conv2d_forward(int32_t dt, const MpfConv2d* s, const void* const* xs, const void* w, const void* b, void* y) {
  return run_conv(dt, [&](auto tag) {
    using T = decltype(tag);
    const T* const* px = reinterpret_cast<const T* const*>(xs);
#ifdef MPF_HAVE_CUDNN
    if (use_cudnn()) return cudnn_conv2d_forward<T>(*s, px, static_cast<const T*>(w), static_cast<const T*>(b), static_cast<T*>(y));
#endif
    own_conv2d_forward<T>(*s, px, static_cast<const T*>(w), static_cast<const T*>(b), static_cast<T*>(y));
  });
}

MpfErr conv2d_backward_data(int32_t dt, const MpfConv2d* s, const void* w, const void* gy, void* const* gxs) {
  return run_conv(dt, [&](auto tag) {
    using T = decltype(tag);
    T* const* pg = reinterpret_cast<T* const*>(gxs);
#ifdef MPF_HAVE_CUDNN
    if (use_cudnn()) return cudnn_conv2d_backward_data<T>(*s, static_cast<const T*>(w), static_cast<const T*>(gy), pg);
#endif
    own_conv2d_backward_data<T>(*s, static_cast<const T*>(w), static_cast<const T*>(gy), pg);
  });
}

MpfErr conv2d_backward_weight(int32_t dt, const MpfConv2d* s, const void* const* xs, const void* gy, void* gw) {
  return run_conv(dt, [&](auto tag) {
    using T = decltype(tag);
    const T* const* px = reinterpret_cast<const T* const*>(xs);
#ifdef MPF_HAVE_CUDNN
    if (use_cudnn()) return cudnn_conv2d_backward_weight<T>(*s, px, static_cast<const T*>(gy), static_cast<T*>(gw));
#endif
    own_conv2d_backward_weight<T>(*s, px, static_cast<const T*>(gy), static_cast<T*>(gw));
  });
}

MpfErr conv2d_backward_bias(int32_t dt, const MpfConv2d* s, const void* gy, void* gb) {
  return run_conv(dt, [&](auto tag) {
    using T = decltype(tag);
    sum_reduce_t<T>(static_cast<const T*>(gy), static_cast<T*>(gb),
                    bias_grad_plan(s->batch, s->out_channels, s->out_h * s->out_w), 1.0);
  });
}

const char* conv2d_engine() {
#ifdef MPF_HAVE_CUDNN
  if (use_cudnn()) return cudnn_conv2d_description();
#endif
  return use_cudnn() ? "cudnn" : "own implicit GEMM (conv2d.cu)";
}

}  // namespace mpf::cuda
