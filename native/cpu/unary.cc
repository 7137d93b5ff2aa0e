#include "cpu/unary.h"

#include <type_traits>

#include "common/cpu_features.h"
#include "common/thread_pool.h"
#include "cpu/unary_simd.h"

namespace mpf::cpu {

constexpr int64_t kGrain = 1 << 14;  // elements per task: large enough to amortise a wake-up

template <typename T>
void unary_forward(UnaryOp op, const T* x, T* y, int64_t n, double p0, double p1) {
  // The exp-based ops in float32 have vector kernels (scalar std::exp is ~10x slower); the
  // formulas below stay the reference, float64 path and portable fallback.
  if constexpr (std::is_same_v<T, float>) {
#if defined(MPF_X86)
    const Simd level = simd_level();
    if (level != Simd::Scalar && has_vector_unary(op)) {
      parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
        if (level == Simd::AVX512) unary_forward_avx512(op, x + lo, y + lo, hi - lo);
        else unary_forward_avx2(op, x + lo, y + lo, hi - lo);
      });
      return;
    }
#elif defined(MPF_NEON)
    if (simd_level() == Simd::Neon && has_vector_unary(op)) {
      parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) { unary_forward_neon(op, x + lo, y + lo, hi - lo); });
      return;
    }
#endif
  }
  const T a = T(p0), b = T(p1);
  dispatch_unary(op, [&](auto tag) {
    constexpr UnaryOp OP = decltype(tag)::value;
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) y[i] = Unary<OP, T>::fwd(x[i], a, b);
    });
  });
}

template <typename T>
void unary_backward(UnaryOp op, const T* x, const T* y, const T* gy, T* gx, int64_t n, double p0, double p1) {
  const T a = T(p0), b = T(p1);
  dispatch_unary(op, [&](auto tag) {
    constexpr UnaryOp OP = decltype(tag)::value;
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) gx[i] = Unary<OP, T>::bwd(x ? x[i] : T(0), y ? y[i] : T(0), gy[i], a, b);
    });
  });
}

// y = OP(x) on the calling thread: the float32 vector kernel where the CPU has one, the scalar
// definition otherwise (the same code unary_forward runs, so results agree exactly).
template <UnaryOp OP, typename T>
static void forward_serial(const T* x, T* y, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
#if defined(MPF_X86)
    const Simd level = simd_level();
    if (level == Simd::AVX512) return unary_forward_avx512(OP, x, y, n);
    if (level == Simd::AVX2) return unary_forward_avx2(OP, x, y, n);
#elif defined(MPF_NEON)
    if (simd_level() == Simd::Neon) return unary_forward_neon(OP, x, y, n);
#endif
  }
  for (int64_t i = 0; i < n; ++i) y[i] = Unary<OP, T>::fwd(x[i], T(0), T(0));
}

template <typename T>
void exp_serial(const T* x, T* y, int64_t n) {
  forward_serial<UnaryOp::Exp>(x, y, n);
}

template <typename T>
void selu_serial(const T* x, T* y, int64_t n) {
  forward_serial<UnaryOp::Selu>(x, y, n);
}

template void selu_serial<float>(const float*, float*, int64_t);
template void selu_serial<double>(const double*, double*, int64_t);
template void exp_serial<float>(const float*, float*, int64_t);
template void exp_serial<double>(const double*, double*, int64_t);
template void unary_forward<float>(UnaryOp, const float*, float*, int64_t, double, double);
template void unary_forward<double>(UnaryOp, const double*, double*, int64_t, double, double);
template void unary_backward<float>(UnaryOp, const float*, const float*, const float*, float*, int64_t, double, double);
template void unary_backward<double>(UnaryOp, const double*, const double*, const double*, double*, int64_t, double, double);

}  // namespace mpf::cpu
