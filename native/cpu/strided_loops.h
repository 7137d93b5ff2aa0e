// The two loop engines behind every broadcasting kernel (binary.cc, reduce.cc, loss.cc):
//   for_each_run: a contiguous output walked in runs along the innermost dim of a StridedPlan;
//   reduce_runs:  a target (some dims reduced to 1) summed from inputs walked the same way.
// The engines own the index arithmetic and the threading; the kernels only see runs, i.e. plain
// loops over `len` elements with compile-time inner strides, which the compiler vectorises.
// Work is split into pieces whose size does not depend on the thread count, so every result is
// bit-identical for any MPFNET_NUM_THREADS.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/broadcast.h"
#include "common/thread_pool.h"

namespace mpf::cpu {

constexpr int64_t kEltGrain = 1 << 14;  // elements per task for elementwise work

// Offsets of operands at the row-major multi-index of `flat` over dims[0..n) of plan p.
template <int N>
inline void offsets_at(const StridedPlan<N>& p, const int* dims, int n, int64_t flat, int64_t* off) {
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int i = n - 1; i >= 0; --i) {
    const int d = dims[i];
    const int64_t q = flat % p.size[d];
    flat /= p.size[d];
    for (int k = 0; k < N; ++k) off[k] += q * p.stride[k][d];
  }
}

// Calls run(out_begin, len, off) for runs along the innermost dim of p, where the output is
// contiguous over p.size and off[k] is operand k's element offset at out_begin. Parallel over the
// flat index in pieces of at least `grain` elements.
template <int N, class Run>
void for_each_run(const StridedPlan<N>& p, int64_t grain, Run&& run) {
  const int r = p.rank;
  const int64_t L = p.size[r - 1];
  parallel_for(p.numel(), grain, [&](int64_t lo, int64_t hi) {
    int64_t idx[kMaxRank], off[N];
    for (int k = 0; k < N; ++k) off[k] = 0;
    int64_t rem = lo;
    for (int d = r - 1; d >= 0; --d) {
      idx[d] = rem % p.size[d];
      rem /= p.size[d];
      for (int k = 0; k < N; ++k) off[k] += idx[d] * p.stride[k][d];
    }
    for (int64_t i = lo; i < hi;) {
      const int64_t len = std::min(L - idx[r - 1], hi - i);
      run(i, len, static_cast<const int64_t*>(off));
      i += len;
      if (i >= hi) break;
      // The run ended at the end of a row: back to column 0 and carry into the outer dims.
      for (int k = 0; k < N; ++k) off[k] -= idx[r - 1] * p.stride[k][r - 1];
      idx[r - 1] = 0;
      for (int d = r - 2; d >= 0; --d) {
        for (int k = 0; k < N; ++k) off[k] += p.stride[k][d];
        if (++idx[d] < p.size[d]) break;
        for (int k = 0; k < N; ++k) off[k] -= p.size[d] * p.stride[k][d];
        idx[d] = 0;
      }
    }
  });
}

// Reductions: the plan's last operand (index N-1) is the target, contiguous over its own shape with
// stride 0 on the reduced dims; operands 0..N-2 are the inputs. A kernel provides
//   double sum(const int64_t* off, int64_t len)               sum of f over a run (inner dim reduced)
//   void accumulate(const int64_t* off, int64_t len, T* acc)  acc[j] += f(run[j])  (inner dim kept)
// and reduce_runs writes target[t] = scale * (the sum of f over every input element mapped to t),
// accumulating in double (accumulate adds up to kRowBlock rows in T before they go to double).
constexpr int64_t kReduceSegment = 1 << 15;  // reduced elements per piece when splitting a sum
constexpr int64_t kReduceColumns = 1024;     // target columns per piece when the inner dim is kept
constexpr int64_t kRowBlock = 16;            // rows summed in T before adding to double

template <int N, typename T, class Kernel>
void reduce_runs(const StridedPlan<N>& p, T* target, double scale, const Kernel& kernel) {
  const int r = p.rank, tk = N - 1;
  const int64_t L = p.size[r - 1];
  const bool inner_reduced = p.stride[tk][r - 1] == 0;
  int kept[kMaxRank], red[kMaxRank], nk = 0, nr = 0;
  int64_t targets = 1, rows = 1;  // kept outer elements, reduced outer rows
  for (int d = 0; d < r - 1; ++d) {
    if (p.stride[tk][d] == 0) {
      red[nr++] = d;
      rows *= p.size[d];
    } else {
      kept[nk++] = d;
      targets *= p.size[d];
    }
  }
  if (inner_reduced) {
    // Each target element sums rows*L values; long sums are cut into fixed segments whose partial
    // sums are added in order afterwards.
    const int64_t total = rows * L;
    const int64_t nseg = (total + kReduceSegment - 1) / kReduceSegment;
    std::vector<double> partial(size_t(nseg > 1 ? targets * nseg : 0));
    const int64_t grain = std::max<int64_t>(1, kEltGrain / std::min(total, kReduceSegment));
    parallel_for(targets * nseg, grain, [&](int64_t lo, int64_t hi) {
      for (int64_t task = lo; task < hi; ++task) {
        const int64_t t = task / nseg, s = task % nseg;
        int64_t base[N], roff[N], off[N];
        offsets_at(p, kept, nk, t, base);
        int64_t q = s * kReduceSegment;
        const int64_t qend = std::min(total, q + kReduceSegment);
        double acc = 0;
        while (q < qend) {
          const int64_t row = q / L, col = q % L, len = std::min(L - col, qend - q);
          offsets_at(p, red, nr, row, roff);
          for (int k = 0; k < N; ++k) off[k] = base[k] + roff[k] + col * p.stride[k][r - 1];
          acc += kernel.sum(off, len);
          q += len;
        }
        if (nseg == 1) target[base[tk]] = T(scale * acc);
        else partial[size_t(task)] = acc;
      }
    });
    if (nseg > 1) {
      parallel_for(targets, 64, [&](int64_t lo, int64_t hi) {
        int64_t base[N];
        for (int64_t t = lo; t < hi; ++t) {
          double acc = 0;
          for (int64_t s = 0; s < nseg; ++s) acc += partial[size_t(t * nseg + s)];
          offsets_at(p, kept, nk, t, base);
          target[base[tk]] = T(scale * acc);
        }
      });
    }
    return;
  }
  // Inner dim kept: each piece owns a block of target columns and sums every reduced row into it.
  const int64_t nchunk = (L + kReduceColumns - 1) / kReduceColumns;
  const int64_t grain = std::max<int64_t>(1, kEltGrain / (rows * std::min(L, kReduceColumns)));
  parallel_for(targets * nchunk, grain, [&](int64_t lo, int64_t hi) {
    double acc[kReduceColumns];
    T part[kReduceColumns];
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t t = task / nchunk, c0 = (task % nchunk) * kReduceColumns;
      const int64_t len = std::min(kReduceColumns, L - c0);
      int64_t base[N], roff[N], off[N];
      offsets_at(p, kept, nk, t, base);
      T* out = target + base[tk] + c0 * p.stride[tk][r - 1];
      if (rows <= kRowBlock) {  // one block: no double pass needed
        std::fill(part, part + len, T(0));
        for (int64_t row = 0; row < rows; ++row) {
          offsets_at(p, red, nr, row, roff);
          for (int k = 0; k < N; ++k) off[k] = base[k] + roff[k] + c0 * p.stride[k][r - 1];
          kernel.accumulate(off, len, part);
        }
        for (int64_t j = 0; j < len; ++j) out[j] = T(scale * double(part[j]));
        continue;
      }
      std::fill(acc, acc + len, 0.0);
      for (int64_t row0 = 0; row0 < rows; row0 += kRowBlock) {
        std::fill(part, part + len, T(0));
        for (int64_t row = row0; row < std::min(rows, row0 + kRowBlock); ++row) {
          offsets_at(p, red, nr, row, roff);
          for (int k = 0; k < N; ++k) off[k] = base[k] + roff[k] + c0 * p.stride[k][r - 1];
          kernel.accumulate(off, len, part);
        }
        for (int64_t j = 0; j < len; ++j) acc[j] += double(part[j]);
      }
      for (int64_t j = 0; j < len; ++j) out[j] = T(scale * acc[j]);
    }
  });
}

// Sum of f(i) for i in [0, n): blocks of 16 independent accumulators in T (vectorised by the
// compiler; 16 measured faster than 32 or 64 with SSE2), each block short enough that float32
// keeps its accuracy, blocks added in double.
template <typename T, class F>
inline double run_sum(int64_t n, F&& f) {
  constexpr int64_t kBlock = 256;
  double total = 0;
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t i1 = std::min(n, i0 + kBlock);
    T acc[16] = {};
    int64_t i = i0;
    for (; i + 16 <= i1; i += 16)
      for (int j = 0; j < 16; ++j) acc[j] += f(i + j);
    for (int j = 0; j < 8; ++j) acc[j] += acc[j + 8];
    for (int j = 0; j < 4; ++j) acc[j] += acc[j + 4];
    T s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; i < i1; ++i) s += f(i);
    total += double(s);
  }
  return total;
}

// Calls f(std::integral_constant<int, S>{}) with S = 0 or 1 for an inner stride (0: broadcast
// scalar, 1: contiguous); any other stride takes S = -1 (generic, runtime stride).
template <class F>
inline void dispatch_stride(int64_t s, F&& f) {
  if (s == 1) f(std::integral_constant<int, 1>{});
  else if (s == 0) f(std::integral_constant<int, 0>{});
  else f(std::integral_constant<int, -1>{});
}

// Element i of a run with compile-time stride S (runtime stride rs when S == -1).
template <int S, typename T>
inline T at(const T* p, int64_t i, int64_t rs) {
  if constexpr (S == 1) return p[i];
  else if constexpr (S == 0) return p[0];
  else return p[i * rs];
}

}  // namespace mpf::cpu

namespace mpf::cpu {

// The sum over [0, n) of seg(lo, hi) -> double, taken in fixed segments in parallel and added in
// order: the same bits for any thread count.
template <class Seg>
double parallel_sum(int64_t n, Seg&& seg) {
  const int64_t nseg = (n + kReduceSegment - 1) / kReduceSegment;
  std::vector<double> partial(size_t(nseg > 0 ? nseg : 1), 0.0);
  parallel_for(nseg, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t s = lo; s < hi; ++s) partial[size_t(s)] = seg(s * kReduceSegment, std::min(n, (s + 1) * kReduceSegment));
  });
  double total = 0;
  for (double v : partial) total += v;
  return total;
}

}  // namespace mpf::cpu
