// The vector-type concept every SIMD kernel in native/cpu/simd/ is written against, once.
//
// A vector type V is a struct of static functions over one register type (no state), so a kernel
// template `template <class V> void k(...)` compiles to that ISA's instructions when it is
// instantiated in a translation unit built with that ISA's flags:
//   vec_portable.h  VecPortable   8 lanes of plain C++ arrays (any architecture; the reference)
//   vec_avx2.h      VecAvx2       __m256   (x86-64, files *_avx2.cc built with -mavx2 -mfma)
//   vec_avx512.h    VecAvx512     __m512   (x86-64, files *_avx512.cc built with -mavx512f/dq/bw/vl)
//   vec_neon.h      VecNeon       float32x4_t (aarch64 only, files *_neon.cc; NEON is baseline there)
//
// Members of V (F: float vector, I: int32 vector, M: lane mask from a comparison):
//   kWidth, kName
//   zero() set1(x) broadcast(const float*)     load(p) store(p, v)        (unaligned)
//   load_first(p, n)  lanes [0, n) from p, the rest zero; reads only p[0..n)     (n clamped 0..W)
//   store_first(p, n, v)  writes only p[0..n)
//   load_masked(p, bits)  lane i = p[i] where bit i of bits is set, else 0; never reads the others
//                         (p may point outside any object for lanes that are off)
//   add sub mul div fmadd(a, b, c) = a*b + c, min max abs neg round(to nearest even)
//   or_bits(a, b)  bitwise or (merges lanes where one side is +0.0, keeping -0.0 exact)
//   to_int(round values) srai1 isub pow2(n) = 2^n as float
//   scale_pow2(a, n) = a * 2^n for integral float n in [-126, 127] (AVX-512: vscalefps, one instruction)
//   gt ge -> M, select(m, t, f)
//   reduce_add(v) -> float, transpose(F r[kWidth]) (square in-register transpose), prefetch(p)
//
// Rules: one instantiation file per ISA and kernel family (gemm_avx2.cc, unary_neon.cc, ...) holds
// `#include "cpu/simd/vec_<isa>.h"` plus the explicit instantiation, and nothing else worth
// reading. The vector types live in unnamed namespaces, so every template instantiated over one
// has internal linkage too: copies compiled with different flags never meet in the linker. Run-time dispatch
// (which entry point to call) is common/cpu_features.cc: simd_level().
#pragma once
#include <cstdint>
#include <cstring>

namespace mpf::simd {
// Unnamed: each translation unit (compiled with its own ISA flags) gets its own copies, so the
// linker can never hand an AVX-512 copy of a helper to baseline code.
namespace {

// Fixed-size copies of the first n floats (a variable-size memcpy would be a library call in the
// middle of a kernel). n must be in [0, W].
template <int W>
inline void copy_first(float* dst, const float* src, int n) {
  switch (n) {
#define MPF_COPY_CASE(k) \
  case k:                \
    if constexpr (k <= W) std::memcpy(dst, src, k * sizeof(float)); \
    return;
    MPF_COPY_CASE(1) MPF_COPY_CASE(2) MPF_COPY_CASE(3) MPF_COPY_CASE(4) MPF_COPY_CASE(5) MPF_COPY_CASE(6)
    MPF_COPY_CASE(7) MPF_COPY_CASE(8) MPF_COPY_CASE(9) MPF_COPY_CASE(10) MPF_COPY_CASE(11) MPF_COPY_CASE(12)
    MPF_COPY_CASE(13) MPF_COPY_CASE(14) MPF_COPY_CASE(15) MPF_COPY_CASE(16)
#undef MPF_COPY_CASE
    default: return;
  }
}

inline int clamp_lanes(int n, int w) { return n < 0 ? 0 : n > w ? w : n; }

}  // namespace
}  // namespace mpf::simd
