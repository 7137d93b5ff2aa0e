// Reductions on the GPU: sums over any set of dims (sum, mean, sum-to-shape for broadcasting's
// backward, conv bias gradients), the broadcast that is their backward, and log-sum-exp. Sums
// accumulate in double, like the CPU kernels (cpu/reduce.cc). A full reduction runs through CUB's
// DeviceReduce; partial ones pick one block per output (long reductions, e.g. over H×W; split over
// several blocks when there are too few outputs to fill the GPU) or one thread per output (many
// short ones, e.g. over the batch), each summing with cub::BlockReduce.
#include <cub/block/block_reduce.cuh>
#include <cub/device/device_reduce.cuh>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>

#include <algorithm>
#include <cmath>

#include "cuda/common.cuh"
#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace mpf::cuda {
namespace {

// x read through the reduced walk, as double: the input iterator of the full reduction.
template <typename T>
struct ReadReduced {
  const T* x;
  MpfReducePlan p;
  __device__ double operator()(int64_t r) const { return double(x[walk_offset(p.red_rank, p.red_size, p.red_stride, r)]); }
};

template <typename T>
__global__ void store_scaled_kernel(const double* s, T* y, double scale) {
  y[0] = T(s[0] * scale);
}

template <typename T>
__global__ void reduce_block_per_output(const T* __restrict__ x, T* __restrict__ y, MpfReducePlan p, int64_t out_n,
                                        int64_t red_n, double scale) {
  using BlockReduce = cub::BlockReduce<double, kThreads>;
  __shared__ typename BlockReduce::TempStorage tmp;
  for (int64_t o = blockIdx.x; o < out_n; o += gridDim.x) {
    const T* base = x + walk_offset(p.out_rank, p.out_size, p.out_stride, o);
    double s = 0;
    if (p.red_rank == 1) {
      const int64_t st = p.red_stride[0];
      for (int64_t r = threadIdx.x; r < red_n; r += blockDim.x) s += double(base[r * st]);
    } else {
      for (int64_t r = threadIdx.x; r < red_n; r += blockDim.x) s += double(base[walk_offset(p.red_rank, p.red_size, p.red_stride, r)]);
    }
    s = BlockReduce(tmp).Sum(s);
    if (threadIdx.x == 0) y[o] = T(s * scale);
    __syncthreads();  // tmp is reused by the next output
  }
}

// Few outputs with long reductions (a conv bias gradient: ~50 channels over batch × H × W) would
// leave most multiprocessors idle with one block per output: each output's range is cut into
// `splits` slices, one block each, whose double partial sums sum_partials_kernel then adds.
template <typename T>
__global__ void reduce_block_split(const T* __restrict__ x, double* __restrict__ partial, MpfReducePlan p, int64_t out_n,
                                   int64_t red_n, int64_t splits) {
  using BlockReduce = cub::BlockReduce<double, kThreads>;
  __shared__ typename BlockReduce::TempStorage tmp;
  const int64_t chunk = (red_n + splits - 1) / splits;
  for (int64_t b = blockIdx.x; b < out_n * splits; b += gridDim.x) {
    const int64_t o = b / splits, r0 = (b % splits) * chunk, r1 = r0 + chunk < red_n ? r0 + chunk : red_n;
    const T* base = x + walk_offset(p.out_rank, p.out_size, p.out_stride, o);
    double s = 0;
    for (int64_t r = r0 + threadIdx.x; r < r1; r += blockDim.x) s += double(base[walk_offset(p.red_rank, p.red_size, p.red_stride, r)]);
    s = BlockReduce(tmp).Sum(s);
    if (threadIdx.x == 0) partial[b] = s;
    __syncthreads();  // tmp is reused by the next slice
  }
}

template <typename T>
__global__ void sum_partials_kernel(const double* __restrict__ partial, T* __restrict__ y, int64_t out_n, int64_t splits,
                                    double scale) {
  MPF_GRID_LOOP(o, out_n) {
    double s = 0;
    for (int64_t k = 0; k < splits; ++k) s += partial[o * splits + k];
    y[o] = T(s * scale);
  }
}

// Neighbouring threads take neighbouring outputs, so reads coalesce when the kept dims are the
// inner ones (a sum over the batch). The reduced walk advances by carrying, not dividing.
template <typename T>
__global__ void reduce_thread_per_output(const T* __restrict__ x, T* __restrict__ y, MpfReducePlan p, int64_t out_n,
                                         int64_t red_n, double scale) {
  MPF_GRID_LOOP(o, out_n) {
    const T* base = x + walk_offset(p.out_rank, p.out_size, p.out_stride, o);
    if (p.red_rank == 0) {  // nothing reduced: a scaled copy
      y[o] = T(double(base[0]) * scale);
      continue;
    }
    double s = 0;
    int64_t idx[MPF_CUDA_MAX_RANK] = {};
    int64_t off = 0;
    const int last = p.red_rank - 1;
    for (int64_t r = 0; r < red_n; ++r) {
      s += double(base[off]);
      int d = last;
      off += p.red_stride[d];
      while (d > 0 && ++idx[d] == p.red_size[d]) {
        off -= p.red_size[d] * p.red_stride[d];
        idx[d] = 0;
        --d;
        off += p.red_stride[d];
      }
    }
    y[o] = T(s * scale);
  }
}

template <typename T>
__global__ void broadcast_kernel(const T* __restrict__ x, T* __restrict__ y, MpfStrided p, int64_t n, T scale) {
  MPF_GRID_LOOP(i, n) {
    int64_t off[1];
    plan_offsets<1>(p, i, off);
    y[i] = scale * x[off[0]];
  }
}

template <typename T>
__device__ bool is_special(T v) {
  return !std::isfinite(v);
}

// One thread per (outer, inner) pair; max first so exp cannot overflow (PyTorch's convention for
// an infinite or NaN max: the result is the max).
template <typename T>
__global__ void logsumexp_forward_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t outer, int64_t d, int64_t inner) {
  MPF_GRID_LOOP(t, outer * inner) {
    int64_t o, i;
    divmod(t, inner, o, i);
    const T* col = x + o * d * inner + i;
    T m = col[0];
    for (int64_t k = 1; k < d; ++k) {
      const T v = col[k * inner];
      m = (v > m || v != v) ? v : m;
    }
    if (is_special(m)) {
      y[t] = m;
      continue;
    }
    double s = 0;
    for (int64_t k = 0; k < d; ++k) s += double(std::exp(col[k * inner] - m));
    y[t] = T(double(m) + std::log(s));
  }
}

template <typename T>
__global__ void logsumexp_backward_kernel(const T* __restrict__ x, const T* __restrict__ y, const T* __restrict__ gy,
                                          T* __restrict__ gx, int64_t outer, int64_t d, int64_t inner) {
  MPF_GRID_LOOP(e, outer * d * inner) {
    int64_t ok, i, o, k;
    divmod(e, inner, ok, i);
    divmod(ok, d, o, k);
    const int64_t t = o * inner + i;
    gx[e] = std::exp(x[e] - y[t]) * gy[t];
  }
}

int64_t count(int rank, const int64_t* size) {
  int64_t n = 1;
  for (int d = 0; d < rank; ++d) n *= size[d];
  return n;
}

}  // namespace

template <typename T>
void sum_reduce_t(const T* x, T* y, const MpfReducePlan& p, double scale) {
  const int64_t out_n = count(p.out_rank, p.out_size), red_n = count(p.red_rank, p.red_size);
  if (out_n == 0) return;  // an empty output: nothing to launch (a 0-block grid is an error)
  if (out_n == 1 && red_n > 1) {
    auto in = thrust::make_transform_iterator(thrust::counting_iterator<int64_t>(0), ReadReduced<T>{x + 0, p});
    size_t temp_bytes = 0;
    check(cub::DeviceReduce::Sum(nullptr, temp_bytes, in, static_cast<double*>(nullptr), red_n, stream()), "cub::DeviceReduce");
    Scratch temp(temp_bytes + sizeof(double));
    double* sum = temp.get<double>();
    void* work = reinterpret_cast<char*>(temp.get()) + sizeof(double);
    check(cub::DeviceReduce::Sum(work, temp_bytes, in, sum, red_n, stream()), "cub::DeviceReduce");
    MPF_LAUNCH(1, 1, store_scaled_kernel<T>)(sum, y, scale);
    return;
  }
  const bool inner_contiguous = p.red_rank > 0 && p.red_stride[p.red_rank - 1] == 1;
  const bool per_block = red_n > 1 && ((inner_contiguous && red_n >= 64) || (out_n < 1024 && red_n >= 256));
  if (per_block) {
    // Aim for ~4 blocks per multiprocessor; a slice keeps at least 4 × kThreads elements.
    const int64_t want = 4 * int64_t(sm_count());
    const int64_t splits = out_n < want ? std::min((want + out_n - 1) / out_n, red_n / (4 * kThreads)) : 1;
    if (splits > 1) {
      Scratch partial(size_t(out_n * splits) * sizeof(double));
      MPF_LAUNCH(blocks_capped(out_n * splits), kThreads, reduce_block_split<T>)(x, partial.get<double>(), p, out_n, red_n, splits);
      MPF_LAUNCH(blocks_for(out_n), kThreads, sum_partials_kernel<T>)(partial.get<double>(), y, out_n, splits, scale);
      return;
    }
    MPF_LAUNCH(blocks_capped(out_n), kThreads, reduce_block_per_output<T>)(x, y, p, out_n, red_n, scale);
  } else {
    MPF_LAUNCH(blocks_for(out_n), kThreads, reduce_thread_per_output<T>)(x, y, p, out_n, red_n, scale);
  }
}
template void sum_reduce_t<float>(const float*, float*, const MpfReducePlan&, double);
template void sum_reduce_t<double>(const double*, double*, const MpfReducePlan&, double);

MpfErr sum_reduce(int32_t dt, const void* x, void* y, const MpfReducePlan* plan, double scale) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      sum_reduce_t<T>(static_cast<const T*>(x), static_cast<T*>(y), *plan, scale);
    });
  });
}

MpfErr broadcast(int32_t dt, const void* x, void* y, const MpfStrided* plan, double scale) {
  return guard([&] {
    const int64_t n = plan_numel(*plan);
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(n), kThreads, broadcast_kernel<T>)(static_cast<const T*>(x), static_cast<T*>(y), *plan, n,
                                                                    T(scale));
    });
  });
}

MpfErr logsumexp_forward(int32_t dt, const void* x, void* y, int64_t outer, int64_t d, int64_t inner) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(outer * inner), kThreads, logsumexp_forward_kernel<T>)(
          static_cast<const T*>(x), static_cast<T*>(y), outer, d, inner);
    });
  });
}

MpfErr logsumexp_backward(int32_t dt, const void* x, const void* y, const void* gy, void* gx, int64_t outer, int64_t d,
                          int64_t inner) {
  return guard([&] {
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(outer * d * inner), kThreads, logsumexp_backward_kernel<T>)(
          static_cast<const T*>(x), static_cast<const T*>(y), static_cast<const T*>(gy), static_cast<T*>(gx), outer, d,
          inner);
    });
  });
}

}  // namespace mpf::cuda
