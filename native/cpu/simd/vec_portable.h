// The portable vector type: 8 lanes as plain C++ arrays, loops the compiler may vectorise for the
// baseline ISA. It runs anywhere and is the reference the ISA instantiations are checked against
// (native/tools/check_simd.cc). See vec.h for the concept.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "cpu/simd/vec.h"

namespace mpf::simd {
// Unnamed: each translation unit (compiled with its own ISA flags) gets its own copies, so the
// linker can never hand an AVX-512 copy of a helper to baseline code.
namespace {

struct VecPortable {
  static constexpr int kWidth = 8;
  static constexpr const char* kName = "portable";
  struct F {
    float v[kWidth];
  };
  struct I {
    int32_t v[kWidth];
  };
  struct M {
    bool v[kWidth];
  };

  template <class Op>
  static inline F map(Op op) {
    F r;
    for (int i = 0; i < kWidth; ++i) r.v[i] = op(i);
    return r;
  }

  static inline F zero() { return set1(0.0f); }
  static inline F set1(float x) { return map([&](int) { return x; }); }
  static inline F broadcast(const float* p) { return set1(*p); }
  static inline F load(const float* p) {
    F r;
    std::memcpy(r.v, p, sizeof r.v);
    return r;
  }
  static inline void store(float* p, F a) { std::memcpy(p, a.v, sizeof a.v); }
  static inline F load_first(const float* p, int n) {
    F r = zero();
    copy_first<kWidth>(r.v, p, clamp_lanes(n, kWidth));
    return r;
  }
  static inline void store_first(float* p, int n, F a) { copy_first<kWidth>(p, a.v, clamp_lanes(n, kWidth)); }
  static inline F load_masked(const float* p, uint32_t bits) {
    return map([&](int i) { return (bits >> i) & 1u ? p[i] : 0.0f; });
  }
  static inline F add(F a, F b) { return map([&](int i) { return a.v[i] + b.v[i]; }); }
  static inline F sub(F a, F b) { return map([&](int i) { return a.v[i] - b.v[i]; }); }
  static inline F or_bits(F a, F b) {
    for (int i = 0; i < kWidth; ++i) {
      uint32_t x, y;
      std::memcpy(&x, &a.v[i], 4);
      std::memcpy(&y, &b.v[i], 4);
      x |= y;
      std::memcpy(&a.v[i], &x, 4);
    }
    return a;
  }
  static inline F mul(F a, F b) { return map([&](int i) { return a.v[i] * b.v[i]; }); }
  static inline F div(F a, F b) { return map([&](int i) { return a.v[i] / b.v[i]; }); }
  static inline F fmadd(F a, F b, F c) { return map([&](int i) { return a.v[i] * b.v[i] + c.v[i]; }); }
  // x86 semantics: the second operand when either is NaN (the exp clamp relies on NaN passing).
  static inline F min(F a, F b) { return map([&](int i) { return a.v[i] < b.v[i] ? a.v[i] : b.v[i]; }); }
  static inline F max(F a, F b) { return map([&](int i) { return a.v[i] > b.v[i] ? a.v[i] : b.v[i]; }); }
  static inline F abs(F a) { return map([&](int i) { return std::fabs(a.v[i]); }); }
  static inline F neg(F a) { return map([&](int i) { return -a.v[i]; }); }
  static inline F round(F a) { return map([&](int i) { return std::nearbyint(a.v[i]); }); }
  static inline I to_int(F a) {
    I r;
    for (int i = 0; i < kWidth; ++i) r.v[i] = int32_t(a.v[i]);  // callers pass rounded values
    return r;
  }
  static inline I srai1(I a) {
    for (int i = 0; i < kWidth; ++i) a.v[i] >>= 1;  // arithmetic shift (C++20 wording, every target)
    return a;
  }
  static inline I isub(I a, I b) {
    for (int i = 0; i < kWidth; ++i) a.v[i] -= b.v[i];
    return a;
  }
  static inline F pow2(I n) {
    F r;
    for (int i = 0; i < kWidth; ++i) {
      const uint32_t bits = uint32_t(n.v[i] + 127) << 23;
      std::memcpy(&r.v[i], &bits, sizeof bits);
    }
    return r;
  }
  static inline F scale_pow2(F a, F n) { return mul(a, pow2(to_int(n))); }
  static inline M gt(F a, F b) {
    M m;
    for (int i = 0; i < kWidth; ++i) m.v[i] = a.v[i] > b.v[i];
    return m;
  }
  static inline M ge(F a, F b) {
    M m;
    for (int i = 0; i < kWidth; ++i) m.v[i] = a.v[i] >= b.v[i];
    return m;
  }
  static inline F select(M m, F t, F f) { return map([&](int i) { return m.v[i] ? t.v[i] : f.v[i]; }); }
  static inline float reduce_add(F a) {
    // Pairwise like the hardware versions: halves added, then quarters, then pairs.
    for (int w = kWidth / 2; w > 0; w /= 2)
      for (int i = 0; i < w; ++i) a.v[i] += a.v[i + w];
    return a.v[0];
  }
  static inline void transpose(F r[kWidth]) {
    for (int i = 0; i < kWidth; ++i)
      for (int j = i + 1; j < kWidth; ++j) {
        const float t = r[i].v[j];
        r[i].v[j] = r[j].v[i];
        r[j].v[i] = t;
      }
  }
  static inline void prefetch(const float* p) { __builtin_prefetch(p); }
};

}  // namespace
}  // namespace mpf::simd
