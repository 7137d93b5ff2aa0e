// Training-data degradations on the GPU (cpu/degrade.h): the per-image 2-D filter with
// reflect-101 borders and its adjoint, and Gaussian noise from the counter-based generator (the
// CPU's numbers). Poisson noise stays on the CPU (its rejection sampler is host code); the binding
// copies through the host for it.
#include "common/random.h"
#include "common/reflect.h"
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace mpf::cuda {
namespace {

// One thread per output pixel: the kernel's taps in the CPU's order (rows, then columns).
template <typename T>
__global__ void filter2d_forward_kernel(const T* __restrict__ x, const T* __restrict__ k, T* __restrict__ y, int64_t c,
                                        int64_t h, int64_t w, int64_t kn, int64_t kh, int64_t kw, int64_t total) {
  const int64_t pa = kh / 2, pb = kw / 2;
  MPF_GRID_LOOP(e, total) {
    int64_t t, j, plane, i;
    divmod(e, w, t, j);
    divmod(t, h, plane, i);
    const T* src = x + plane * h * w;
    const T* ker = k + (kn == 1 ? 0 : plane / c) * kh * kw;
    T acc = 0;
    for (int64_t u = 0; u < kh; ++u) {
      const T* row = src + reflect_index(i + u - pa, h) * w;
      for (int64_t v = 0; v < kw; ++v) acc += ker[u * kw + v] * row[reflect_index(j + v - pb, w)];
    }
    y[e] = acc;
  }
}

// The adjoint in two gathers: the gradient of the padded plane (ph × pw), then every pixel sums
// the padded positions that mirror onto it (q ≡ a or q ≡ −a modulo the reflection period).
template <typename T>
__global__ void filter2d_padded_grad_kernel(const T* __restrict__ gy, const T* __restrict__ k, T* __restrict__ pad, int64_t c,
                                            int64_t h, int64_t w, int64_t kn, int64_t kh, int64_t kw, int64_t total) {
  const int64_t ph = h + kh - 1, pw = w + kw - 1;
  MPF_GRID_LOOP(e, total) {
    int64_t t, pc, plane, pr;
    divmod(e, pw, t, pc);
    divmod(t, ph, plane, pr);
    const T* g = gy + plane * h * w;
    const T* ker = k + (kn == 1 ? 0 : plane / c) * kh * kw;
    T acc = 0;
    for (int64_t u = 0; u < kh; ++u) {
      const int64_t i = pr - u;
      if (i < 0 || i >= h) continue;
      for (int64_t v = 0; v < kw; ++v) {
        const int64_t j = pc - v;
        if (j >= 0 && j < w) acc += ker[u * kw + v] * g[i * w + j];
      }
    }
    pad[e] = acc;
  }
}

// The padded indices q in [lo, hi] with reflect_index(q, n) == a, visited through a callback.
template <typename F>
__device__ void mirrors(int64_t a, int64_t n, int64_t lo, int64_t hi, F&& f) {
  if (n == 1) {
    for (int64_t q = lo; q <= hi; ++q) f(q);
    return;
  }
  const int64_t period = 2 * (n - 1);
  const int64_t bases[2] = {a, period - a};
  const int nb = (a == 0 || a == n - 1) ? 1 : 2;
  for (int b = 0; b < nb; ++b) {
    const int64_t base = bases[b];
    int64_t m = (lo - base) % period;
    if (m < 0) m += period;
    int64_t q = lo + (m == 0 ? 0 : period - m);  // the first q >= lo with q ≡ base
    for (; q <= hi; q += period) f(q);
  }
}

template <typename T>
__global__ void filter2d_fold_kernel(const T* __restrict__ pad, T* __restrict__ gx, int64_t h, int64_t w, int64_t kh,
                                     int64_t kw, int64_t total) {
  const int64_t pa = kh / 2, pb = kw / 2, ph = h + kh - 1, pw = w + kw - 1;
  MPF_GRID_LOOP(e, total) {
    int64_t t, b, plane, a;
    divmod(e, w, t, b);
    divmod(t, h, plane, a);
    const T* p = pad + plane * ph * pw;
    T acc = 0;
    mirrors(a, h, -pa, ph - 1 - pa, [&](int64_t qr) {
      const T* row = p + (qr + pa) * pw;
      mirrors(b, w, -pb, pw - 1 - pb, [&](int64_t qc) { acc += row[qc + pb]; });
    });
    gx[e] = acc;
  }
}

template <typename T>
__global__ void gaussian_noise_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t c, int64_t hw,
                                      const double* __restrict__ sigma, const uint8_t* __restrict__ grey, uint64_t seed,
                                      uint64_t offset, bool clip, int64_t total) {
  MPF_GRID_LOOP(idx, total) {
    int64_t img, rest, ch, p;
    divmod(idx, c * hw, img, rest);
    divmod(rest, hw, ch, p);
    const int64_t counter = grey[img] ? img * c * hw + p : idx;
    T v = x[idx] + T(sigma[img] * normal01(seed, offset + uint64_t(counter)));
    y[idx] = clip ? (v < T(0) ? T(0) : (v > T(1) ? T(1) : v)) : v;
  }
}

}  // namespace

MpfErr filter2d(int32_t dt, const void* x, const void* k, void* y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t kn,
                int64_t kh, int64_t kw, int32_t backward) {
  return guard([&] {
    const int64_t total = n * c * h * w;
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      const T* in = static_cast<const T*>(x);
      const T* ker = static_cast<const T*>(k);
      T* out = static_cast<T*>(y);
      if (!backward) {
        MPF_LAUNCH(blocks_for(total), kThreads, filter2d_forward_kernel<T>)(in, ker, out, c, h, w, kn, kh, kw, total);
        return;
      }
      const int64_t padded = n * c * (h + kh - 1) * (w + kw - 1);
      Scratch pad(size_t(padded) * sizeof(T));
      MPF_LAUNCH(blocks_for(padded), kThreads, filter2d_padded_grad_kernel<T>)(in, ker, pad.get<T>(), c, h, w, kn, kh, kw,
                                                                                     padded);
      MPF_LAUNCH(blocks_for(total), kThreads, filter2d_fold_kernel<T>)(pad.get<T>(), out, h, w, kh, kw, total);
    });
  });
}

MpfErr gaussian_noise(int32_t dt, const void* x, void* y, int64_t n, int64_t c, int64_t hw, const double* sigma,
                      const uint8_t* grey, uint64_t seed, uint64_t offset, int32_t clip) {
  return guard([&] {
    const int64_t total = n * c * hw;
    Scratch s = upload(sigma, size_t(n) * sizeof(double));
    Scratch g = upload(grey, size_t(n));
    by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      MPF_LAUNCH(blocks_for(total), kThreads, gaussian_noise_kernel<T>)(
          static_cast<const T*>(x), static_cast<T*>(y), c, hw, s.get<double>(), g.get<uint8_t>(), seed, offset, clip != 0,
          total);
    });
  });
}

}  // namespace mpf::cuda
