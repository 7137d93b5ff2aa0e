// The aarch64 NEON vector type: 4 floats in one 128-bit q register (32 of them). NEON and FMA are
// part of the aarch64 baseline, so files named *_neon.cc need no extra flags; they are compiled
// only on aarch64 (CMakeLists.txt) and entered when simd_level() says Neon. See vec.h.
#pragma once
#include <arm_neon.h>

#include "cpu/simd/vec.h"

namespace mpf::simd {
// Unnamed: each translation unit (compiled with its own ISA flags) gets its own copies, so the
// linker can never hand an AVX-512 copy of a helper to baseline code.
namespace {

struct VecNeon {
  using F = float32x4_t;
  using I = int32x4_t;
  using M = uint32x4_t;
  static constexpr int kWidth = 4;
  static constexpr const char* kName = "neon";

  static inline F zero() { return vdupq_n_f32(0.0f); }
  static inline F set1(float v) { return vdupq_n_f32(v); }
  static inline F broadcast(const float* p) { return vld1q_dup_f32(p); }
  static inline F load(const float* p) { return vld1q_f32(p); }
  static inline void store(float* p, F v) { vst1q_f32(p, v); }
  // NEON has no masked loads: partial vectors go through a small buffer.
  static inline F load_first(const float* p, int n) {
    float buf[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    copy_first<4>(buf, p, clamp_lanes(n, 4));
    return vld1q_f32(buf);
  }
  static inline void store_first(float* p, int n, F v) {
    float buf[4];
    vst1q_f32(buf, v);
    copy_first<4>(p, buf, clamp_lanes(n, 4));
  }
  static inline F load_masked(const float* p, uint32_t bits) {
    float buf[4];
    for (int i = 0; i < 4; ++i) buf[i] = (bits >> i) & 1u ? p[i] : 0.0f;
    return vld1q_f32(buf);
  }
  static inline F add(F a, F b) { return vaddq_f32(a, b); }
  static inline F sub(F a, F b) { return vsubq_f32(a, b); }
  static inline F or_bits(F a, F b) { return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b))); }
  static inline F mul(F a, F b) { return vmulq_f32(a, b); }
  static inline F div(F a, F b) { return vdivq_f32(a, b); }
  static inline F fmadd(F a, F b, F c) { return vfmaq_f32(c, a, b); }
  // x86 semantics (the second operand when either is NaN) by compare + select: vminq/vmaxq would
  // also propagate NaN, but from either side, and the exp clamp is written for the x86 rule.
  static inline F min(F a, F b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
  static inline F max(F a, F b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
  static inline F abs(F a) { return vabsq_f32(a); }
  static inline F neg(F a) { return vnegq_f32(a); }
  static inline F round(F a) { return vrndnq_f32(a); }
  static inline I to_int(F a) { return vcvtnq_s32_f32(a); }
  static inline I srai1(I a) { return vshrq_n_s32(a, 1); }
  static inline I isub(I a, I b) { return vsubq_s32(a, b); }
  static inline F pow2(I n) { return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n, vdupq_n_s32(127)), 23)); }
  static inline F scale_pow2(F a, F n) { return mul(a, pow2(to_int(n))); }
  static inline M gt(F a, F b) { return vcgtq_f32(a, b); }
  static inline M ge(F a, F b) { return vcgeq_f32(a, b); }
  static inline F select(M m, F t, F f) { return vbslq_f32(m, t, f); }
  static inline float reduce_add(F a) {
    const float32x2_t h = vadd_f32(vget_low_f32(a), vget_high_f32(a));  // pairwise like the others
    return vget_lane_f32(h, 0) + vget_lane_f32(h, 1);
  }
  // r[i][j] -> r[j][i]: 32-bit transposes of row pairs, then 64-bit transposes of the halves.
  static inline void transpose(F r[4]) {
    const float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
    const float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
    const float64x2_t d0 = vreinterpretq_f64_f32(t0), d1 = vreinterpretq_f64_f32(t1);
    const float64x2_t d2 = vreinterpretq_f64_f32(t2), d3 = vreinterpretq_f64_f32(t3);
    r[0] = vreinterpretq_f32_f64(vtrn1q_f64(d0, d2));
    r[1] = vreinterpretq_f32_f64(vtrn1q_f64(d1, d3));
    r[2] = vreinterpretq_f32_f64(vtrn2q_f64(d0, d2));
    r[3] = vreinterpretq_f32_f64(vtrn2q_f64(d1, d3));
  }
  static inline void prefetch(const float* p) { __builtin_prefetch(p); }
};

}  // namespace
}  // namespace mpf::simd
