// In-register 16x16 float transpose for AVX-512 code (include only from *_avx512.cc files, which
// are compiled with the AVX-512 flags). Used by the transposing packers of gemm and conv2d.
#pragma once
#include <immintrin.h>

// GCC 12 reports the undefined-upper-half idiom inside its own AVX-512 shuffle intrinsics as
// "maybe uninitialized"; every value here is initialised.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace mpf::cpu {

// r[i][j] -> r[j][i]: pairs interleaved, then 4x4 blocks within 128-bit lanes, then the lanes.
inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    u[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
    u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  // u[4g + c] holds column 4L + c of rows 4g..4g+3 in 128-bit lane L.
  for (int c = 0; c < 4; ++c) {
    const __m512 v = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), w = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88), w2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(v, v2, 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(v, v2, 0xDD);
    r[4 + c] = _mm512_shuffle_f32x4(w, w2, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(w, w2, 0xDD);
  }
}

}  // namespace mpf::cpu

#pragma GCC diagnostic pop
