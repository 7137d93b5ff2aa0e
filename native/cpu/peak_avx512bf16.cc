// The bf16 peak loop: vdpbf16ps (AVX512_BF16) with 16 independent accumulators; each instruction
// multiplies 32 bf16 pairs and adds them pairwise into 16 floats (64 flops). Compiled with
// -mavx512bf16 (CMakeLists.txt); entered only when the CPU reports avx512bf16 (cpu/peak.cc).
#include <immintrin.h>

#include "cpu/peak.h"

namespace mpf::cpu {

float peak_bf16_avx512bf16(int64_t iters, double* flops_per_round) {
  constexpr int K = 16;
  *flops_per_round = 2.0 * K * 32;
  __m512 acc[K];
  for (int i = 0; i < K; ++i) acc[i] = _mm512_set1_ps(float(i));
  // Small bf16 operands (0.001 * 0.001 per product): the sums stay far from overflow.
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.001f), _mm512_set1_ps(0.001f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.001f), _mm512_set1_ps(0.002f));
  for (int64_t r = 0; r < iters; ++r) {
#pragma GCC unroll 16
    for (int i = 0; i < K; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < K; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

}  // namespace mpf::cpu
