// Machine-peak arithmetic loop over a vector type V (cpu/simd/vec.h): K independent FMA chains,
// enough to cover every FMA pipe's latency (2 pipes x 4 cycles = 8 chains on current x86 cores;
// K >= 12 leaves margin), no loads or stores in the loop. Instantiated per ISA by peak_<isa>.cc;
// driven by cpu/peak.cc on the thread pool.
#pragma once
#include <cstdint>

namespace mpf::simd {

// Runs `iters` rounds of K fused multiply-adds on W-lane vectors (2 * K * W flops per round) and
// returns a value derived from every accumulator, so none can be optimised away.
template <class V, int K>
float fma_rounds(int64_t iters) {
  typename V::F acc[K];
  for (int i = 0; i < K; ++i) acc[i] = V::set1(float(i) * 0.001f);
  // acc = acc * m + a converges to a / (1 - m): no overflow and no subnormals however long it runs.
  const typename V::F m = V::set1(0.999f), a = V::set1(0.001f);
  for (int64_t r = 0; r < iters; ++r) {
#pragma GCC unroll 32
    for (int i = 0; i < K; ++i) acc[i] = V::fmadd(acc[i], m, a);
  }
  typename V::F s = acc[0];
  for (int i = 1; i < K; ++i) s = V::add(s, acc[i]);
  return V::reduce_add(s);
}

}  // namespace mpf::simd
