// Winograd tile kernels compiled for AVX2 + FMA (entered only when simd_level() says so): the
// portable templates of conv2d_winograd_kernels.h with 8-lane vectors, one ymm register each, plus
// shuffle-based staging and unstaging for F(2x2), F(4x4), F(6x6) and F(8x8), and F(2x2)'s
// gradient staging (the portable loops copy one float at a time: under AVX2 on the Zen 4 host the
// staging was 33-35% of a training forward at 48x48, perf, 2026-12-04; docs/performance.md,
// "AVX2"). AVX2 has no two-source permute, so the networks differ from the AVX-512 ones.
#include <immintrin.h>

#include "cpu/conv2d_winograd_kernels.h"
#include "cpu/simd/vec_avx2.h"

namespace mpf::cpu::winograd {
namespace {

using simd::VecAvx2;

// Lanes i with lo <= i < hi on (AVX2 masks: all bits of a lane).
inline __m256i range_mask(int64_t lo, int64_t hi) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i l = _mm256_set1_epi32(int(std::clamp<int64_t>(lo, -1, 8))), h = _mm256_set1_epi32(int(std::clamp<int64_t>(hi, -1, 8)));
  return _mm256_andnot_si256(_mm256_cmpgt_epi32(l, lane), _mm256_cmpgt_epi32(h, lane));
}

// A chunk's patch row, as the staging loop hands it to a tile size's network.
struct PatchRow {
  uintptr_t base;  // address of the chunk's float 0 (an integer: it may lie before the row)
  int64_t lo, hi;  // floats [lo, hi) from base are inside the row (and needed)
  bool inside;     // 8 whole tiles whose 8 m + 2 floats all lie inside the row
  int nl;          // the chunk's tiles (1 .. 8)
  float* d;        // staging of this patch row: column k at d + k * stride
  int64_t stride;
};

// The staging loop of F(4x4), F(6x6) and F(8x8) (F(2x2) transforms as it stages, below): for each
// segment, each chunk of up to 8 of its tiles and each of the a = m + 2 patch rows, a row outside
// the plane becomes zeros; otherwise the same row of the next channel is prefetched and
// stage_row(row) loads this one (masked loads zero what lies past the row's ends: unlike AMD's
// masked stores, masked loads are cheap), shuffles, transforms along the row and stores.
template <int M, class StageRow>
__attribute__((always_inline)) inline void stage_rows(const InputJob<float>& p, StageRow&& stage_row) {
  constexpr int A = M + 2;
  const int64_t stride = p.stride, h = p.h, w = p.w, off_h = p.off_h, off_w = p.off_w;
  const int64_t next_offset = p.next_plane ? p.next_plane - p.plane : 0;
  for (int s = 0; s < p.nsegs; ++s) {
    const Seg g = p.segs[s];
    const float* plane = p.plane + g.n * p.batch_stride;
    for (int64_t c0 = 0; c0 < g.len; c0 += 8) {
      const int nl = int(g.len - c0 < 8 ? g.len - c0 : 8);
      const int64_t iw0 = (g.tx0 + c0) * M + off_w;  // column of float 0
      const bool inside = iw0 >= 0 && iw0 + 8 * M + 2 <= w;
      const int64_t lo = -iw0, hi = std::min<int64_t>(w - iw0, 8 * M + 2);
      float* dr = p.d + g.lane0 + c0;
      for (int r = 0; r < A; ++r, dr += A * stride) {
        const int64_t ih = g.ty * M + r + off_h;
        if (ih < 0 || ih >= h) {
          for (int k = 0; k < A; ++k) VecAvx2::store_first(dr + k * stride, nl, _mm256_setzero_ps());
          continue;
        }
        const uintptr_t base = reinterpret_cast<uintptr_t>(plane + ih * w) + uintptr_t(iw0 * int64_t(sizeof(float)));
        if (next_offset) {
          const uintptr_t at = base + uintptr_t(next_offset * int64_t(sizeof(float)));
          for (uintptr_t line = at & ~uintptr_t(63); line < at + uintptr_t((8 * M + 2) * sizeof(float)); line += 64)
            _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
        }
        stage_row(PatchRow{base, lo, hi, inside, nl, dr, stride});
      }
    }
  }
  if (p.valid < p.lanes)
    for (int e = 0; e < A * A; ++e) std::fill(p.d + e * stride + p.valid, p.d + e * stride + p.lanes, 0.f);
}

// Register q of a patch row (floats 8q .. 8q + 7 from its float 0): a plain load inside the row,
// else masked to [lo, hi).
inline __m256 load_8(const PatchRow& row, int q) {
  const float* at = reinterpret_cast<const float*>(row.base + uintptr_t(32 * q));
  return row.inside ? _mm256_loadu_ps(at) : _mm256_maskload_ps(at, range_mask(row.lo - 8 * q, row.hi - 8 * q));
}

// The two floats past a chunk's 8 tiles of m floats (columns m and m + 1 of the last tile).
inline __m256 load_tail(const PatchRow& row, int m) {
  return _mm256_maskload_ps(reinterpret_cast<const float*>(row.base + uintptr_t(32 * m)),
                            range_mask(row.lo - 8 * m, std::min<int64_t>(row.hi - 8 * m, 2)));
}

// The row half of the input transform on a patch row's columns, stored as the chunk's lanes.
template <int M>
inline void transform_row(const PatchRow& row, const __m256 (&c)[M + 2]) {
  constexpr int A = M + 2;
  typedef float Vf __attribute__((vector_size(32)));
  Vf d[A], t[A];
  for (int k = 0; k < A; ++k) d[k] = Vf(c[k]);
  Wino<M>::in(d, t);
  if (row.nl == 8) {
    for (int k = 0; k < A; ++k) _mm256_storeu_ps(row.d + k * row.stride, __m256(t[k]));
  } else {
    for (int k = 0; k < A; ++k) VecAvx2::store_first(row.d + k * row.stride, row.nl, __m256(t[k]));
  }
}

// Lanes 1..7 of v and then `last`: the column one tile on.
inline __m256 next_tile(__m256 v, float last) {
  const __m256 shifted = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 7));
  return _mm256_blend_ps(shifted, _mm256_set1_ps(last), 0x80);
}

// F(2x2): 8 tiles' rows are 18 floats; columns 0 and 1 are the even and odd floats of the first
// 16, columns 2 and 3 those one tile on. All in one pass, as the AVX-512 kernel does: that staging
// for each of a chunk's 4 patch rows, the row half of the transform on it, and the column half as
// the rows arrive (point (i, j) needs rows 0 and 2, 1 and 2, or 1 and 3: input_2d's operations in
// its order, so the results are the same), writing V directly instead of the staging buffer. Against
// staging then transforming: the forward at 48x48 336-351 -> 353-357 effective GFLOP/s, C104 -> 52
// (check_conv2d, 2 threads, three alternations).
void input_tiles_f2(const InputJob<float>& p) {
  constexpr int M = 2, A = 4;
  typedef float Vf __attribute__((vector_size(32)));
  const int64_t h = p.h, w = p.w, off_h = p.off_h, off_w = p.off_w, v_xi = p.v_xi, v_panel = p.v_panel, nr = p.nr;
  const int64_t next_offset = p.next_plane ? p.next_plane - p.plane : 0;
  float* const v = p.v;
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  // Lanes [l0, l0 + n) of point xi: lane l at v + xi * v_xi + (l / nr) * v_panel + l % nr; a chunk
  // that crosses a panel's end (panels are at least 8 lanes wide) is stored in two parts, the
  // second moved down to lane 0.
  auto put = [&](int xi, int64_t l0, int n, __m256 x) __attribute__((always_inline)) {
    const int64_t at = l0 % nr;
    const int n1 = int(std::min<int64_t>(n, nr - at));
    VecAvx2::store_first(v + xi * v_xi + (l0 / nr) * v_panel + at, n1, x);
    if (n1 < n)
      VecAvx2::store_first(v + xi * v_xi + (l0 / nr + 1) * v_panel, n - n1,
                           _mm256_permutevar8x32_ps(x, _mm256_add_epi32(lane, _mm256_set1_epi32(n1))));
  };
  for (int s = 0; s < p.nsegs; ++s) {
    const Seg g = p.segs[s];
    const float* plane = p.plane + g.n * p.batch_stride;
    for (int64_t c0 = 0; c0 < g.len; c0 += 8) {
      const int nl = int(g.len - c0 < 8 ? g.len - c0 : 8);
      const int64_t iw0 = (g.tx0 + c0) * M + off_w;
      const bool inside = iw0 >= 0 && iw0 + 8 * M + 2 <= w;
      const int64_t lo = -iw0, hi = std::min<int64_t>(w - iw0, 8 * M + 2), l0 = g.lane0 + c0;
      Vf t0[A], t1[A];  // rows 0 and 1, transformed along the row
      for (int r = 0; r < A; ++r) {
        const int64_t ih = g.ty * M + r + off_h;
        Vf t[A];
        if (ih < 0 || ih >= h) {
          for (int k = 0; k < A; ++k) t[k] = Vf(_mm256_setzero_ps());
        } else {
          const uintptr_t base = reinterpret_cast<uintptr_t>(plane + ih * w) + uintptr_t(iw0 * int64_t(sizeof(float)));
          if (next_offset) {
            const uintptr_t at = base + uintptr_t(next_offset * int64_t(sizeof(float)));
            for (uintptr_t line = at & ~uintptr_t(63); line < at + uintptr_t(18 * sizeof(float)); line += 64)
              _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
          }
          __m256 x[3];
          if (inside) {
            x[0] = _mm256_loadu_ps(reinterpret_cast<const float*>(base));
            x[1] = _mm256_loadu_ps(reinterpret_cast<const float*>(base + 32));
          } else {
            x[0] = _mm256_maskload_ps(reinterpret_cast<const float*>(base), range_mask(lo, hi));
            x[1] = _mm256_maskload_ps(reinterpret_cast<const float*>(base + 32), range_mask(lo - 8, hi - 8));
          }
          x[2] = _mm256_maskload_ps(reinterpret_cast<const float*>(base + 64), range_mask(lo - 16, hi - 16));
          // shuffle_ps picks within 128-bit lanes (floats 0 2 8 10 | 4 6 12 14); the 64-bit
          // permute puts them in order.
          const __m256 e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(x[0], x[1], 0x88)), 0xD8));
          const __m256 o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(x[0], x[1], 0xDD)), 0xD8));
          const float f16 = _mm256_cvtss_f32(x[2]), f17 = _mm_cvtss_f32(_mm_movehdup_ps(_mm256_castps256_ps128(x[2])));
          const Vf d[A] = {Vf(e), Vf(o), Vf(next_tile(e, f16)), Vf(next_tile(o, f17))};
          Wino<M>::in(d, t);
        }
        if (r == 0) {
          for (int k = 0; k < A; ++k) t0[k] = t[k];
        } else if (r == 1) {
          for (int k = 0; k < A; ++k) t1[k] = t[k];
        } else if (r == 2) {
          for (int j = 0; j < A; ++j) {
            put(j, l0, nl, __m256(t0[j] - t[j]));
            put(A + j, l0, nl, __m256(t1[j] + t[j]));
            put(2 * A + j, l0, nl, __m256(t[j] - t1[j]));
          }
        } else {
          for (int j = 0; j < A; ++j) put(3 * A + j, l0, nl, __m256(t1[j] - t[j]));
        }
      }
    }
  }
  for (int64_t l = p.valid; l < p.lanes; l += 8)
    for (int xi = 0; xi < A * A; ++xi) put(xi, l, int(std::min<int64_t>(8, p.lanes - l)), _mm256_setzero_ps());
}

// The F(2x2) weight gradient's staging of gy: a tile row is 2 floats, so 8 tiles' rows are 16
// consecutive floats, whose even and odd floats are the tiles' columns 0 and 1 (masked loads zero
// what lies past the plane's width). The weight pass at 48x48 (C104 -> 52, check_conv2d, 2
// threads, three alternations) went 287-288 -> 292-294 effective GFLOP/s against the portable loop
// (batch 8: unchanged).
void stage_grad_f2(const GradJob<float>& p) {
  constexpr int M = 2;
  const int64_t stride = p.stride, h = p.h, w = p.w;
  for (int s = 0; s < p.nsegs; ++s) {
    const Seg g = p.segs[s];
    const float* plane = p.plane + g.n * p.batch_stride;
    for (int64_t c0 = 0; c0 < g.len; c0 += 8) {
      const int nl = int(g.len - c0 < 8 ? g.len - c0 : 8);
      const int64_t x0 = (g.tx0 + c0) * M, hi = std::min<int64_t>(w - x0, 2 * nl);  // floats of the row to read
      float* d = p.d + g.lane0 + c0;
      for (int i = 0; i < M; ++i, d += M * stride) {
        const int64_t y = g.ty * M + i;
        if (y >= h) {
          for (int j = 0; j < M; ++j) VecAvx2::store_first(d + j * stride, nl, _mm256_setzero_ps());
          continue;
        }
        // The second half's address in integers: past the plane's last row it lies outside the
        // allocation, which a masked-off load never touches but pointer arithmetic may not name.
        const uintptr_t src = reinterpret_cast<uintptr_t>(plane + y * w + x0);
        const __m256 a = _mm256_maskload_ps(reinterpret_cast<const float*>(src), range_mask(0, hi)),
                     b = _mm256_maskload_ps(reinterpret_cast<const float*>(src + 32), range_mask(0, hi - 8));
        VecAvx2::store_first(d, nl, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8)));
        VecAvx2::store_first(d + stride, nl, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8)));
      }
    }
  }
  if (p.valid < p.lanes)
    for (int e = 0; e < M * M; ++e) std::fill(p.d + e * stride + p.valid, p.d + e * stride + p.lanes, 0.f);
}

// F(4x4): 8 tiles' rows are 34 floats; register q holds tiles 2q and 2q + 1, one per 128-bit
// lane. A 4x4 transpose within the lanes gives column k of tiles 0 2 4 6 | 1 3 5 7, a permute puts
// the tiles in order; columns 4 and 5 are columns 0 and 1 one tile on.
void stage_input_f4(const InputJob<float>& p) {
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  stage_rows<4>(p, [&](const PatchRow& row) __attribute__((always_inline)) {
    __m256 x[4];
    for (int q = 0; q < 4; ++q) x[q] = load_8(row, q);
    const __m256 tail = load_tail(row, 4);
    const __m256 t0 = _mm256_unpacklo_ps(x[0], x[1]), t1 = _mm256_unpackhi_ps(x[0], x[1]);
    const __m256 t2 = _mm256_unpacklo_ps(x[2], x[3]), t3 = _mm256_unpackhi_ps(x[2], x[3]);
    __m256 c[6] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE), _mm256_shuffle_ps(t1, t3, 0x44),
                   _mm256_shuffle_ps(t1, t3, 0xEE)};
    for (int k = 0; k < 4; ++k) c[k] = _mm256_permutevar8x32_ps(c[k], order);
    c[4] = next_tile(c[0], _mm256_cvtss_f32(tail));
    c[5] = next_tile(c[1], _mm_cvtss_f32(_mm_movehdup_ps(_mm256_castps256_ps128(tail))));
    transform_row<4>(row, c);
  });
}

// F(6x6)'s loads: floats [off, off + 4) from the chunk's float 0 (at base) into the low lane and
// [off + 24, off + 28), the same floats of the tile 4 on, into the high lane; outside the row only
// floats in [lo, hi) are read, the rest are zero (masked loads).
inline __m256 load_pair(uintptr_t base, int64_t off, int64_t lo, int64_t hi, bool inside) {
  const float* a = reinterpret_cast<const float*>(base + uintptr_t(off * int64_t(sizeof(float))));
  const float* b = reinterpret_cast<const float*>(base + uintptr_t((off + 24) * int64_t(sizeof(float))));
  if (inside) return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(a)), _mm_loadu_ps(b), 1);
  const __m128i lane = _mm_setr_epi32(0, 1, 2, 3);
  auto mask = [&](int64_t at) {
    const __m128i l = _mm_set1_epi32(int(std::clamp<int64_t>(lo - at, -1, 4))), h = _mm_set1_epi32(int(std::clamp<int64_t>(hi - at, -1, 4)));
    return _mm_andnot_si128(_mm_cmpgt_epi32(l, lane), _mm_cmpgt_epi32(h, lane));
  };
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_maskload_ps(a, mask(off))), _mm_maskload_ps(b, mask(off + 24)), 1);
}

// F(6x6): a patch row is 8 floats starting every 6, so tile t's columns 0-3 are the 4 floats at
// 6t and its columns 4-7 the 4 at 6t + 4. Loaded as 128-bit groups, tiles t and t + 4 in one
// register, a 4x4 transpose within the lanes gives four columns of the 8 tiles in order.
void stage_input_f6(const InputJob<float>& p) {
  stage_rows<6>(p, [&](const PatchRow& row) __attribute__((always_inline)) {
    __m256 x[8];  // x[4 * half + j]: tiles j | j + 4, columns 4 * half ..
    if (row.inside) {
      for (int q = 0; q < 8; ++q) x[q] = load_pair(row.base, 6 * (q % 4) + 4 * (q / 4), row.lo, row.hi, true);
    } else {
      for (int q = 0; q < 8; ++q) x[q] = load_pair(row.base, 6 * (q % 4) + 4 * (q / 4), row.lo, row.hi, false);
    }
    __m256 c[8];
    for (int half = 0; half < 2; ++half) {  // columns 0-3, then 4-7
      const __m256* y = x + 4 * half;
      const __m256 t0 = _mm256_unpacklo_ps(y[0], y[1]), t1 = _mm256_unpackhi_ps(y[0], y[1]);
      const __m256 t2 = _mm256_unpacklo_ps(y[2], y[3]), t3 = _mm256_unpackhi_ps(y[2], y[3]);
      c[4 * half] = _mm256_shuffle_ps(t0, t2, 0x44);
      c[4 * half + 1] = _mm256_shuffle_ps(t0, t2, 0xEE);
      c[4 * half + 2] = _mm256_shuffle_ps(t1, t3, 0x44);
      c[4 * half + 3] = _mm256_shuffle_ps(t1, t3, 0xEE);
    }
    transform_row<6>(row, c);
  });
}

// F(8x8): a patch row is 10 floats starting every 8, so tile t's columns 0-7 are the 8 floats at 8t
// (one register) and columns 8, 9 those of tile t + 1's columns 0, 1. An 8x8 transpose turns the 8
// tiles' registers into columns 0-7; the row half of the transform runs in registers.
void stage_input_f8(const InputJob<float>& p) {
  stage_rows<8>(p, [&](const PatchRow& row) __attribute__((always_inline)) {
    __m256 c[10];
    for (int t = 0; t < 8; ++t) c[t] = load_8(row, t);
    const __m256 tail = load_tail(row, 8);
    VecAvx2::transpose(c);  // c[k]: column k of tiles 0..7
    c[8] = next_tile(c[0], _mm256_cvtss_f32(tail));
    c[9] = next_tile(c[1], _mm_cvtss_f32(_mm_movehdup_ps(_mm256_castps256_ps128(tail))));
    transform_row<8>(row, c);
  });
}

// The first hi floats of v[0], v[1], ... (8 each) at row.
template <int N>
inline void store_row(float* row, int64_t hi, const __m256 (&v)[N]) {
  for (int q = 0; q < N && 8 * q < hi; ++q) VecAvx2::store_first(row + 8 * q, int(hi - 8 * q), v[q]);
}

// F(2x2): row floats 2t and 2t + 1 are columns 0 and 1 of tile t: interleave the two.
void unstage_output_f2(const OutputJob<float>& p) {
  const int64_t stride = p.stride;
  unstage_rows<2, 8>(p, [&](const float* o, float* row, int64_t hi) __attribute__((always_inline)) {
    const __m256 a = _mm256_loadu_ps(o), b = _mm256_loadu_ps(o + stride);
    const __m256 lo = _mm256_unpacklo_ps(a, b), up = _mm256_unpackhi_ps(a, b);  // tiles 0 1 | 4 5 and 2 3 | 6 7
    const __m256 v[2] = {_mm256_permute2f128_ps(lo, up, 0x20), _mm256_permute2f128_ps(lo, up, 0x31)};
    store_row(row, hi, v);
  });
}

// F(4x4): the staging's network backwards: tiles 0 2 4 6 | 1 3 5 7 in each column, a 4x4
// transpose within the lanes, then register q holds tiles 2q | 2q + 1.
void unstage_output_f4(const OutputJob<float>& p) {
  const int64_t stride = p.stride;
  const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  unstage_rows<4, 8>(p, [&](const float* o, float* row, int64_t hi) __attribute__((always_inline)) {
    __m256 c[4];
    for (int k = 0; k < 4; ++k) c[k] = _mm256_permutevar8x32_ps(_mm256_loadu_ps(o + k * stride), order);
    const __m256 t0 = _mm256_unpacklo_ps(c[0], c[1]), t1 = _mm256_unpackhi_ps(c[0], c[1]);
    const __m256 t2 = _mm256_unpacklo_ps(c[2], c[3]), t3 = _mm256_unpackhi_ps(c[2], c[3]);
    const __m256 v[4] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE), _mm256_shuffle_ps(t1, t3, 0x44),
                         _mm256_shuffle_ps(t1, t3, 0xEE)};
    store_row(row, hi, v);
  });
}

// F(6x6): row floats 6t .. 6t + 5 are columns 0-5 of tile t. A 4x4 transpose within the lanes
// makes columns 0-3 of tiles t | t + 4 one register, an interleave columns 4-5 of tiles t, t + 1 |
// t + 4, t + 5; each tile is then a 4-float and a 2-float store. The forward at 256^2 (F(6x6),
// C104 -> 52) 453-472 -> 490-501 effective GFLOP/s against the portable loop (check_conv2d, 2
// threads, three alternations).
void unstage_output_f6(const OutputJob<float>& p) {
  const int64_t stride = p.stride;
  unstage_rows<6, 8>(p, [&](const float* o, float* row, int64_t hi) __attribute__((always_inline)) {
    __m256 c[6];
    for (int j = 0; j < 6; ++j) c[j] = _mm256_loadu_ps(o + j * stride);
    const __m256 t0 = _mm256_unpacklo_ps(c[0], c[1]), t1 = _mm256_unpackhi_ps(c[0], c[1]);
    const __m256 t2 = _mm256_unpacklo_ps(c[2], c[3]), t3 = _mm256_unpackhi_ps(c[2], c[3]);
    const __m256 head[4] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE), _mm256_shuffle_ps(t1, t3, 0x44),
                            _mm256_shuffle_ps(t1, t3, 0xEE)};                              // tiles q | q + 4
    const __m256 tail[2] = {_mm256_unpacklo_ps(c[4], c[5]), _mm256_unpackhi_ps(c[4], c[5])};  // tiles 0 1 | 4 5, 2 3 | 6 7
    for (int t = 0; t < 8 && 6 * t < hi; ++t) {
      const __m128 h4 = t < 4 ? _mm256_castps256_ps128(head[t]) : _mm256_extractf128_ps(head[t - 4], 1);
      const __m128 pair = t < 4 ? _mm256_castps256_ps128(tail[t / 2]) : _mm256_extractf128_ps(tail[(t - 4) / 2], 1);
      const __m128 c45 = t % 2 ? _mm_movehl_ps(pair, pair) : pair;  // this tile's columns 4 and 5 in floats 0 and 1
      float* d = row + 6 * t;
      if (6 * t + 6 <= hi) {
        _mm_storeu_ps(d, h4);
        _mm_storel_pi(reinterpret_cast<__m64*>(d + 4), c45);
      } else {  // the plane's last columns cut this tile
        alignas(16) float f[8];
        _mm_store_ps(f, h4);
        _mm_store_ps(f + 4, c45);
        for (int64_t j = 0; j < hi - 6 * t; ++j) d[j] = f[j];
      }
    }
  });
}

// F(8x8): row floats 8t .. 8t + 7 are columns 0-7 of tile t: the 8x8 transpose back.
void unstage_output_f8(const OutputJob<float>& p) {
  const int64_t stride = p.stride;
  unstage_rows<8, 8>(p, [&](const float* o, float* row, int64_t hi) __attribute__((always_inline)) {
    __m256 v[8];
    for (int j = 0; j < 8; ++j) v[j] = _mm256_loadu_ps(o + j * stride);
    VecAvx2::transpose(v);  // v[t]: tile t's 8 floats
    store_row(row, hi, v);
  });
}

}  // namespace

const TileKernels<float>& tile_kernels_avx2() {
  static const TileKernels<float> k = [] {
    // F(2x2)'s input: staging and transform in one (input_tiles_f2, above).
    TileKernels<float> t = make_tile_kernels<float, 8, InlineSelu<simd::VecAvx2>, &input_tiles_f2, &unstage_output_f2, &stage_input_f4,
                                             &unstage_output_f4, &stage_input_f6, &unstage_output_f6, true, true, &stage_grad_f2,
                                             &stage_input_f8, &unstage_output_f8, true>();
    t.taps = &taps_simd<simd::VecAvx2>;
    return t;
  }();
  return k;
}

}  // namespace mpf::cpu::winograd
