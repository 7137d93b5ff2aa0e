// AVX-512 vector traits for the exp-based unary ops (cpu/unary_ops_vec.h). Compiled with
// -mavx512f/dq/bw/vl; entered only when simd_level() is AVX512.
// GCC 12 warns about the intrinsics' own internal _mm512_undefined_* temporaries (a known false
// positive); nothing of ours is uninitialised.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "cpu/unary_ops_vec.h"
#include "cpu/unary_simd.h"

namespace mpf::cpu {
namespace {

struct V16 {
  using F = __m512;
  using I = __m512i;
  using M = __mmask16;
  static constexpr int kWidth = 16;
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F abs(F a) { return _mm512_abs_ps(a); }
  static F neg(F a) { return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(int(0x80000000u)))); }
  static F round(F a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static I to_int(F a) { return _mm512_cvtps_epi32(a); }
  static I srai1(I a) { return _mm512_srai_epi32(a, 1); }
  static I isub(I a, I b) { return _mm512_sub_epi32(a, b); }
  static F pow2(I n) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23)); }
  static M gt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static F select(M m, F t, F f) { return _mm512_mask_blend_ps(m, f, t); }
};

}  // namespace

void unary_forward_avx512(UnaryOp op, const float* x, float* y, int64_t n) { vec::unary_forward<V16>(op, x, y, n); }

}  // namespace mpf::cpu
