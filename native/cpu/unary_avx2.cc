// AVX2 + FMA vector traits for the exp-based unary ops (cpu/unary_ops_vec.h). Compiled with -mavx2
// -mfma; entered only when simd_level() >= AVX2.
#include <immintrin.h>

#include "cpu/unary_ops_vec.h"
#include "cpu/unary_simd.h"

namespace mpf::cpu {
namespace {

struct V8 {
  using F = __m256;
  using I = __m256i;
  using M = __m256;
  static constexpr int kWidth = 8;
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F abs(F a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
  static F neg(F a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
  static F round(F a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static I to_int(F a) { return _mm256_cvtps_epi32(a); }
  static I srai1(I a) { return _mm256_srai_epi32(a, 1); }
  static I isub(I a, I b) { return _mm256_sub_epi32(a, b); }
  static F pow2(I n) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23)); }
  static M gt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static M ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static F select(M m, F t, F f) { return _mm256_blendv_ps(f, t, m); }
};

}  // namespace

void unary_forward_avx2(UnaryOp op, const float* x, float* y, int64_t n) { vec::unary_forward<V8>(op, x, y, n); }

}  // namespace mpf::cpu
