#include "cpu/reduce.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "common/cpu_features.h"
#include "cpu/reduce_simd.h"
#include "cpu/strided_loops.h"
#include "cpu/unary.h"

namespace mpf::cpu {
namespace {

// Operands (x, target); x's inner stride is 1 after coalescing since x is contiguous.
template <typename T>
struct PlainSum {
  const T* x;
  double sum(const int64_t* off, int64_t len) const { return contiguous_sum(x + off[0], len); }
  void accumulate(const int64_t* off, int64_t len, T* __restrict__ acc) const {
    const T* __restrict__ p = x + off[0];
    for (int64_t i = 0; i < len; ++i) acc[i] += p[i];
  }
};

}  // namespace

template <typename T>
double contiguous_sum(const T* p, int64_t n) {
#if defined(MPF_X86)
  if constexpr (std::is_same_v<T, float>)
    if (simd_level() != Simd::Scalar) return sum_f32_avx2(p, n);
#elif defined(MPF_NEON)
  if constexpr (std::is_same_v<T, float>)
    if (simd_level() == Simd::Neon) return sum_f32_neon(p, n);
#endif
  return run_sum<T>(n, [&](int64_t i) { return p[i]; });
}

template <typename T>
void sum_to_shape(const T* x, const Shape& from, T* out, const Shape& to, double scale) {
  const Shape* shapes[2] = {&from, &to};
  const StridedPlan<2> p = make_plan<2>(from, shapes);
  reduce_runs(p, out, scale, PlainSum<T>{x});
}

template <typename T>
void broadcast_to(const T* x, const Shape& x_shape, T* out, const Shape& to, double scale) {
  const Shape* shapes[1] = {&x_shape};
  const StridedPlan<1> p = make_plan<1>(to, shapes);
  const T s = T(scale);
  const int64_t rs = p.inner(0);
  dispatch_stride(rs, [&](auto tag) {
    constexpr int S = decltype(tag)::value;
    for_each_run(p, kEltGrain, [&](int64_t i0, int64_t len, const int64_t* off) {
      T* __restrict__ o = out + i0;
      const T* __restrict__ px = x + off[0];
#pragma GCC unroll 4  // see binary.cc
      for (int64_t i = 0; i < len; ++i) o[i] = s * at<S>(px, i, rs);
    });
  });
}

// The max is subtracted so exp never overflows; when the max is infinite (an infinite input, or
// every input -inf) or NaN, the result is that max, as in PyTorch. The exps run in chunks through
// exp_serial (the vector kernel in float32); their sums accumulate in double.
constexpr int64_t kExpChunk = 1024;

template <typename T>
static inline bool is_special(T v) {
  return !(v - v == T(0));  // inf or NaN
}

template <typename T>
void logsumexp_forward(const T* x, T* y, int64_t outer, int64_t d, int64_t inner) {
  if (inner == 1) {
    parallel_for(outer, std::max<int64_t>(1, kEltGrain / d), [&](int64_t lo, int64_t hi) {
      T buf[kExpChunk];
      for (int64_t o = lo; o < hi; ++o) {
        const T* row = x + o * d;
        T m = row[0];
        for (int64_t k = 1; k < d; ++k) m = (row[k] > m || row[k] != row[k]) ? row[k] : m;  // NaN wins
        if (is_special(m)) {
          y[o] = m;
          continue;
        }
        double s = 0;
        for (int64_t k0 = 0; k0 < d; k0 += kExpChunk) {
          const int64_t len = std::min(kExpChunk, d - k0);
          for (int64_t k = 0; k < len; ++k) buf[k] = row[k0 + k] - m;
          exp_serial(buf, buf, len);
          for (int64_t k = 0; k < len; ++k) s += double(buf[k]);
        }
        y[o] = T(double(m) + std::log(s));
      }
    });
    return;
  }
  // Reduced dim in the middle: columns of `inner` values, swept row by row for contiguous reads.
  const int64_t nchunk = (inner + kExpChunk - 1) / kExpChunk;
  parallel_for(outer * nchunk, std::max<int64_t>(1, kEltGrain / (d * std::min(inner, kExpChunk))), [&](int64_t lo, int64_t hi) {
    double s[kExpChunk];
    T buf[kExpChunk];
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t o = task / nchunk, c0 = (task % nchunk) * kExpChunk, len = std::min(kExpChunk, inner - c0);
      const T* base = x + o * d * inner + c0;
      T* ym = y + o * inner + c0;
      for (int64_t i = 0; i < len; ++i) ym[i] = base[i];
      for (int64_t k = 1; k < d; ++k)
        for (int64_t i = 0; i < len; ++i) {
          const T v = base[k * inner + i];
          ym[i] = (v > ym[i] || v != v) ? v : ym[i];
        }
      // Infinite / NaN maxima give exp(nan) terms below; they are replaced by the max at the end.
      for (int64_t i = 0; i < len; ++i) s[i] = 0;
      for (int64_t k = 0; k < d; ++k) {
        for (int64_t i = 0; i < len; ++i) buf[i] = base[k * inner + i] - ym[i];
        exp_serial(buf, buf, len);
        for (int64_t i = 0; i < len; ++i) s[i] += double(buf[i]);
      }
      for (int64_t i = 0; i < len; ++i)
        if (!is_special(ym[i])) ym[i] = T(double(ym[i]) + std::log(s[i]));
    }
  });
}

// gx = gy * exp(x - y), one (o) block of d * inner contiguous elements per task.
template <typename T>
void logsumexp_backward(const T* x, const T* y, const T* gy, T* gx, int64_t outer, int64_t d, int64_t inner) {
  parallel_for(outer, std::max<int64_t>(1, kEltGrain / (d * inner)), [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; ++o) {
      const T* __restrict__ yo = y + o * inner;
      const T* __restrict__ go = gy + o * inner;
      for (int64_t k = 0; k < d; ++k) {
        const T* __restrict__ xr = x + (o * d + k) * inner;
        T* __restrict__ out = gx + (o * d + k) * inner;
        for (int64_t i = 0; i < inner; ++i) out[i] = xr[i] - yo[i];
      }
      T* block = gx + o * d * inner;
      exp_serial(block, block, d * inner);
      for (int64_t k = 0; k < d; ++k) {
        T* __restrict__ out = block + k * inner;
        for (int64_t i = 0; i < inner; ++i) out[i] *= go[i];
      }
    }
  });
}

#define MPF_INSTANTIATE(T)                                                                      \
  template double contiguous_sum<T>(const T*, int64_t);                                         \
  template void sum_to_shape<T>(const T*, const Shape&, T*, const Shape&, double);              \
  template void broadcast_to<T>(const T*, const Shape&, T*, const Shape&, double);              \
  template void logsumexp_forward<T>(const T*, T*, int64_t, int64_t, int64_t);                  \
  template void logsumexp_backward<T>(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t);
MPF_INSTANTIATE(float)
MPF_INSTANTIATE(double)
#undef MPF_INSTANTIATE

}  // namespace mpf::cpu
