#include "cpu/squeeze_excite.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/thread_pool.h"

namespace mpf::cpu {
namespace {

// Planes per task: enough work per task to amortise the pool's hand-off.
int64_t plane_grain(int64_t hw) { return std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, hw)); }

// Σ a[i] (· b[i] when given) with 8 independent partial sums: without -ffast-math the compiler keeps a
// single serial accumulator scalar; 8 lanes let it use one vector register and hide the add latency.
template <typename T>
T plane_sum(const T* a, const T* b, int64_t hw) {
  T lane[8] = {};
  int64_t i = 0;
  if (b)
    for (; i + 8 <= hw; i += 8)
      for (int k = 0; k < 8; ++k) lane[k] += a[i + k] * b[i + k];
  else
    for (; i + 8 <= hw; i += 8)
      for (int k = 0; k < 8; ++k) lane[k] += a[i + k];
  T acc = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (; i < hw; ++i) acc += b ? a[i] * b[i] : a[i];
  return acc;
}

template <typename T>
T sigmoid(T z) {
  return T(1) / (T(1) + std::exp(-z));
}

// The excitation MLP of every image: pre-activations hpre (n, hidden) and s (n, c).
template <typename T>
void excitation(const SqueezeExcite& s, const T* w1, const T* b1, const T* w2, const T* b2, const T* m, T* hpre, T* sc) {
  for (int64_t i = 0; i < s.n; ++i) {
    for (int64_t j = 0; j < s.hidden; ++j) {
      T a = b1 ? b1[j] : T(0);
      for (int64_t k = 0; k < s.c; ++k) a += w1[j * s.c + k] * m[i * s.c + k];
      hpre[i * s.hidden + j] = a;
    }
    for (int64_t ch = 0; ch < s.c; ++ch) {
      T z = b2 ? b2[ch] : T(0);
      for (int64_t j = 0; j < s.hidden; ++j) z += w2[ch * s.hidden + j] * std::max(hpre[i * s.hidden + j], T(0));
      sc[i * s.c + ch] = sigmoid(z);
    }
  }
}

}  // namespace

template <typename T>
void se_pool(const T* x, T* m, int64_t n, int64_t c, int64_t hw) {
  parallel_for(n * c, plane_grain(hw), [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) m[p] = plane_sum<T>(x + p * hw, nullptr, hw) / T(hw);
  });
}

template <typename T>
void se_scales(const SqueezeExcite& s, const T* w1, const T* b1, const T* w2, const T* b2, const T* m, T* sc) {
  std::vector<T> hpre(s.n * s.hidden);
  excitation(s, w1, b1, w2, b2, m, hpre.data(), sc);
}

template <typename T>
void se_excite(const SqueezeExcite& s, const T* w1, const T* b1, const T* w2, const T* b2, const T* x, const T* m, T* y) {
  std::vector<T> sc(s.n * s.c);
  se_scales(s, w1, b1, w2, b2, m, sc.data());
  parallel_for(s.n * s.c, plane_grain(s.hw), [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p)
      for (int64_t i = 0; i < s.hw; ++i) y[p * s.hw + i] = x[p * s.hw + i] * sc[p];
  });
}

template <typename T>
void se_backward(const SqueezeExcite& s, const T* w1, const T* b1, const T* w2, const T* b2, const T* x, const T* m,
                 const T* gy, T* gx, T* gw1, T* gb1, T* gw2, T* gb2, T* scratch) {
  const int64_t nc = s.n * s.c, nh = s.n * s.hidden, H = s.hidden, C = s.c;
  T *gz = scratch, *sc = gz + nc, *gm = sc + nc, *hpre = gm + nc, *gh = hpre + nh;
  // gs = Σ gy·x per plane (stored in gz, turned into the pre-sigmoid gradient below)
  parallel_for(nc, plane_grain(s.hw), [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) gz[p] = plane_sum(gy + p * s.hw, x + p * s.hw, s.hw);
  });
  excitation(s, w1, b1, w2, b2, m, hpre, sc);
  for (int64_t p = 0; p < nc; ++p) gz[p] *= sc[p] * (T(1) - sc[p]);
  for (int64_t i = 0; i < s.n; ++i)
    for (int64_t j = 0; j < H; ++j) {
      T a = 0;
      if (hpre[i * H + j] > T(0))
        for (int64_t ch = 0; ch < C; ++ch) a += w2[ch * H + j] * gz[i * C + ch];
      gh[i * H + j] = a;
    }
  for (int64_t ch = 0; ch < C; ++ch) {
    for (int64_t j = 0; j < H && gw2; ++j) {
      T a = 0;
      for (int64_t i = 0; i < s.n; ++i) a += gz[i * C + ch] * std::max(hpre[i * H + j], T(0));
      gw2[ch * H + j] = a;
    }
    if (gb2) {
      T a = 0;
      for (int64_t i = 0; i < s.n; ++i) a += gz[i * C + ch];
      gb2[ch] = a;
    }
  }
  for (int64_t j = 0; j < H; ++j) {
    for (int64_t k = 0; k < C && gw1; ++k) {
      T a = 0;
      for (int64_t i = 0; i < s.n; ++i) a += gh[i * H + j] * m[i * C + k];
      gw1[j * C + k] = a;
    }
    if (gb1) {
      T a = 0;
      for (int64_t i = 0; i < s.n; ++i) a += gh[i * H + j];
      gb1[j] = a;
    }
  }
  if (!gx) return;
  for (int64_t i = 0; i < s.n; ++i)
    for (int64_t k = 0; k < C; ++k) {
      T a = 0;
      for (int64_t j = 0; j < H; ++j) a += w1[j * C + k] * gh[i * H + j];
      gm[i * C + k] = a / T(s.hw);
    }
  // gx = gy·s + gm / hw: the direct path and the one through the mean
  parallel_for(nc, plane_grain(s.hw), [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p)
      for (int64_t i = 0; i < s.hw; ++i) gx[p * s.hw + i] = gy[p * s.hw + i] * sc[p] + gm[p];
  });
}

#define MPF_SE_INSTANTIATE(T)                                                                                      \
  template void se_pool<T>(const T*, T*, int64_t, int64_t, int64_t);                                              \
  template void se_scales<T>(const SqueezeExcite&, const T*, const T*, const T*, const T*, const T*, T*);           \
  template void se_excite<T>(const SqueezeExcite&, const T*, const T*, const T*, const T*, const T*, const T*, T*); \
  template void se_backward<T>(const SqueezeExcite&, const T*, const T*, const T*, const T*, const T*, const T*,     \
                               const T*, T*, T*, T*, T*, T*, T*);
MPF_SE_INSTANTIATE(float)
MPF_SE_INSTANTIATE(double)

}  // namespace mpf::cpu
