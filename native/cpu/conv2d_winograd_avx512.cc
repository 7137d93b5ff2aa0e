// Winograd tile kernels compiled for AVX-512 (entered only when simd_level() says so): the
// portable templates of conv2d_winograd_kernels.h with 16-lane vectors (one zmm each), plus
// shuffle-based staging. F(4x4, 3x3): a tile's patch row is 6 floats starting every 4 floats
// of an image row, so 16 tiles' rows are 66 consecutive floats: four masked loads and a 4x4
// transpose of 128-bit blocks, then of floats within blocks, give the first four columns of all
// 16 patches; the last two are the first two shifted by one tile. Masks zero the padding.
// F(6x6, 3x3), F(8x8, 3x3) and F(2x2, 3x3) have their own permute networks (below).
#include <immintrin.h>

#include "cpu/conv2d_winograd_kernels.h"
#include "cpu/simd/vec_avx512.h"

// GCC 12 reports the undefined-upper-half idiom inside its own AVX-512 shuffle intrinsics as
// "maybe uninitialized"; every value here is initialised. Clang has no such group.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace mpf::cpu::winograd {
namespace {

// Bits [lo, hi) of a 16-bit mask, with lo and hi clamped to [0, 16].
inline __mmask16 bit_range(int64_t lo, int64_t hi) {
  lo = lo < 0 ? 0 : lo > 16 ? 16 : lo;
  hi = hi < lo ? lo : hi > 16 ? 16 : hi;
  return __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1));
}

// v[q] holds floats 16q .. 16q + 15 of 16 consecutive groups of 4 (group t at floats 4t .. 4t+3);
// afterwards v[k] holds float k of every group, group t in lane t. The same network undoes itself.
inline void transpose_groups(__m512 v[4]) {
  const __m512 a0 = _mm512_shuffle_f32x4(v[0], v[1], 0x44), a1 = _mm512_shuffle_f32x4(v[0], v[1], 0xEE);
  const __m512 a2 = _mm512_shuffle_f32x4(v[2], v[3], 0x44), a3 = _mm512_shuffle_f32x4(v[2], v[3], 0xEE);
  // w[j] = groups j, j + 4, j + 8, j + 12 (one per 128-bit block)
  const __m512 w0 = _mm512_shuffle_f32x4(a0, a2, 0x88), w1 = _mm512_shuffle_f32x4(a0, a2, 0xDD);
  const __m512 w2 = _mm512_shuffle_f32x4(a1, a3, 0x88), w3 = _mm512_shuffle_f32x4(a1, a3, 0xDD);
  const __m512 u0 = _mm512_unpacklo_ps(w0, w1), u1 = _mm512_unpackhi_ps(w0, w1);
  const __m512 u2 = _mm512_unpacklo_ps(w2, w3), u3 = _mm512_unpackhi_ps(w2, w3);
  v[0] = _mm512_shuffle_ps(u0, u2, 0x44);
  v[1] = _mm512_shuffle_ps(u0, u2, 0xEE);
  v[2] = _mm512_shuffle_ps(u1, u3, 0x44);
  v[3] = _mm512_shuffle_ps(u1, u3, 0xEE);
}

// The reverse: v[k] holds float k of groups 0..15; afterwards v[q] holds floats 16q .. 16q + 15.
inline void untranspose_groups(__m512 v[4]) {
  const __m512 u0 = _mm512_unpacklo_ps(v[0], v[1]), u1 = _mm512_unpackhi_ps(v[0], v[1]);
  const __m512 u2 = _mm512_unpacklo_ps(v[2], v[3]), u3 = _mm512_unpackhi_ps(v[2], v[3]);
  // w[j]: group j + 4b complete in block b
  const __m512 w0 = _mm512_shuffle_ps(u0, u2, 0x44), w1 = _mm512_shuffle_ps(u0, u2, 0xEE);
  const __m512 w2 = _mm512_shuffle_ps(u1, u3, 0x44), w3 = _mm512_shuffle_ps(u1, u3, 0xEE);
  const __m512 a0 = _mm512_shuffle_f32x4(w0, w1, 0x88), a1 = _mm512_shuffle_f32x4(w2, w3, 0x88);
  const __m512 a2 = _mm512_shuffle_f32x4(w0, w1, 0xDD), a3 = _mm512_shuffle_f32x4(w2, w3, 0xDD);
  v[0] = _mm512_shuffle_f32x4(a0, a1, 0x88);
  v[1] = _mm512_shuffle_f32x4(a2, a3, 0x88);
  v[2] = _mm512_shuffle_f32x4(a0, a1, 0xDD);
  v[3] = _mm512_shuffle_f32x4(a2, a3, 0xDD);
}

// The staging loop the tile sizes share: for each segment, each chunk of up to 16 of its tiles and
// each of the a = m + 2 patch rows, a row outside the plane becomes zeros; otherwise the same row of
// the next channel is prefetched and stage_row loads, shuffles and stores this one.
struct PatchRow {
  uintptr_t base;   // address of the chunk's first column (an integer: it may lie before the row)
  int64_t lo, hi;   // floats [lo, hi) from base are inside the row (and needed)
  bool inside;      // 16 whole tiles whose 16 m + 2 floats all lie inside the row
  int nl;           // the chunk's tiles (1 .. 16)
  __mmask16 lanes;  // their lanes
  bool full;        // all 16 lanes
  float* d;         // staging of this patch row: column k at d + k * stride
  int64_t stride;
};

template <int M, int PrefetchLines, class StageRow>
__attribute__((always_inline)) inline void stage_rows(const InputJob<float>& p, StageRow&& stage_row) {
  constexpr int A = M + 2;
  // The job's fields in locals: to the compiler the stores may write anywhere, p included, and it
  // would reload every field after each of them.
  const int64_t stride = p.stride, h = p.h, w = p.w, off_h = p.off_h, off_w = p.off_w;
  const int64_t next_offset = p.next_plane ? p.next_plane - p.plane : 0;
  for (int s = 0; s < p.nsegs; ++s) {
    const Seg g = p.segs[s];
    const float* plane = p.plane + g.n * p.batch_stride;
    for (int64_t c0 = 0; c0 < g.len; c0 += 16) {
      const int64_t nl = g.len - c0 < 16 ? g.len - c0 : 16;
      const __mmask16 lanes = bit_range(0, nl);
      const int64_t iw0 = (g.tx0 + c0) * M + off_w;  // column of float 0
      const bool inside = nl == 16 && iw0 >= 0 && iw0 + 16 * M + 2 <= w;
      float* dr = p.d + g.lane0 + c0;
      for (int r = 0; r < A; ++r, dr += A * stride) {
        const int64_t ih = g.ty * M + r + off_h;
        if (ih < 0 || ih >= h) {
          for (int k = 0; k < A; ++k) _mm512_mask_storeu_ps(dr + k * stride, lanes, _mm512_setzero_ps());
          continue;
        }
        const uintptr_t base = reinterpret_cast<uintptr_t>(plane + ih * w) + uintptr_t(iw0 * int64_t(sizeof(float)));
        // The channels' planes lie far apart, which the hardware prefetchers do not follow: ask
        // for this row of the next channel now (the addresses may lie outside it; a prefetch
        // never faults).
        if (next_offset) {
          const uintptr_t at = base + uintptr_t(next_offset * int64_t(sizeof(float)));
          for (int q = 0; q < PrefetchLines; ++q) _mm_prefetch(reinterpret_cast<const char*>(at + uintptr_t(q * 64)), _MM_HINT_T0);
        }
        stage_row(PatchRow{base, -iw0, std::min<int64_t>(w - iw0, nl * M + 2), inside, int(nl), lanes, nl == 16, dr, stride});
      }
    }
  }
  if (p.valid < p.lanes)
    for (int e = 0; e < A * A; ++e) std::fill(p.d + e * stride + p.valid, p.d + e * stride + p.lanes, 0.f);
}

// n floats from row.base + 64 q bytes, q = 0 .. n - 1, each load masked to the row.
template <int N>
inline void load_row(const PatchRow& row, __m512 (&v)[N]) {
  for (int q = 0; q < N; ++q)
    v[q] = _mm512_maskz_loadu_ps(bit_range(row.lo - 16 * q, row.hi - 16 * q), reinterpret_cast<const float*>(row.base + uintptr_t(q * 64)));
}

// F(4x4) keeps a loop of its own: through stage_rows (with the same row code) it measured 3-5%
// slower (check_conv2d --bench --precision fp32, 128x128, one thread).
void stage_input_f4(const InputJob<float>& p) {
  constexpr int M = 4, A = 6;
  const __m512i next = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
  const __m512i next2 = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17);
  // The job's fields in locals: to the compiler the stores below may write anywhere, p included,
  // and it would reload every field after each of them.
  const int64_t stride = p.stride, h = p.h, w = p.w, off_h = p.off_h, off_w = p.off_w;
  const int64_t next_offset = p.next_plane ? p.next_plane - p.plane : 0;
  for (int s = 0; s < p.nsegs; ++s) {
    const Seg g = p.segs[s];
    const float* plane = p.plane + g.n * p.batch_stride;
    for (int64_t c0 = 0; c0 < g.len; c0 += 16) {
      const int64_t nl = g.len - c0 < 16 ? g.len - c0 : 16;
      const __mmask16 lanes = bit_range(0, nl);
      const int64_t iw0 = (g.tx0 + c0) * M + off_w;  // column of float 0
      // Inside: 16 whole tiles whose 66 floats all lie in the row (no masks but the tail's).
      const bool inside = nl == 16 && iw0 >= 0 && iw0 + 16 * M + 2 <= w;
      float* dr = p.d + g.lane0 + c0;
      for (int r = 0; r < A; ++r, dr += A * stride) {
        const int64_t ih = g.ty * M + r + off_h;
        if (ih < 0 || ih >= h) {
          for (int k = 0; k < A; ++k) _mm512_mask_storeu_ps(dr + k * stride, lanes, _mm512_setzero_ps());
          continue;
        }
        // Float q*16 + b is column iw0 + q*16 + b; it is read when inside the row and needed.
        const float* src = plane + ih * w + iw0;
        // The channels' planes lie far apart, which the hardware prefetchers do not follow: ask
        // for this row of the next channel now (the addresses may lie outside it; a prefetch
        // never faults, and integer arithmetic keeps the pointer out of undefined behaviour).
        if (next_offset) {
          const uintptr_t at = reinterpret_cast<uintptr_t>(src) + uintptr_t(next_offset * int64_t(sizeof(float)));
          for (int q = 0; q < 5; ++q) _mm_prefetch(reinterpret_cast<const char*>(at + uintptr_t(q * 64)), _MM_HINT_T0);
        }
        __m512 v[5];
        if (inside) {
          for (int q = 0; q < 4; ++q) v[q] = _mm512_loadu_ps(src + 16 * q);
          v[4] = _mm512_maskz_loadu_ps(0x3, src + 64);
        } else {
          const int64_t lo = -iw0, hi = std::min<int64_t>(w - iw0, nl * M + 2);
          const uintptr_t base = reinterpret_cast<uintptr_t>(plane + ih * w) + uintptr_t(iw0 * int64_t(sizeof(float)));
          for (int q = 0; q < 5; ++q)
            v[q] = _mm512_maskz_loadu_ps(bit_range(lo - 16 * q, hi - 16 * q), reinterpret_cast<const float*>(base + uintptr_t(q * 64)));
        }
        const __m512 tail = v[4];
        transpose_groups(v);
        // Columns 4 and 5 of tile t are columns 0 and 1 of tile t + 1 (of the tail for t = 15).
        typedef float V __attribute__((vector_size(64)));
        const V row[A] = {V(v[0]), V(v[1]), V(v[2]), V(v[3]), V(_mm512_permutex2var_ps(v[0], next, tail)),
                          V(_mm512_permutex2var_ps(v[1], next2, tail))};
        // The row half of the input transform while the row is in registers (input_tiles does
        // the columns).
        V t[A];
        Wino<4>::in(row, t);
        if (nl == 16) {
          for (int k = 0; k < A; ++k) _mm512_storeu_ps(dr + k * stride, __m512(t[k]));
        } else {
          for (int k = 0; k < A; ++k) _mm512_mask_storeu_ps(dr + k * stride, lanes, __m512(t[k]));
        }
      }
    }
  }
  if (p.valid < p.lanes)
    for (int e = 0; e < A * A; ++e) std::fill(p.d + e * stride + p.valid, p.d + e * stride + p.lanes, 0.f);
}

void unstage_output_f4(const OutputJob<float>& p) {
  constexpr int M = 4;
  unstage_rows<M, 16>(p, [&](const float* o, float* row, int64_t hi) __attribute__((always_inline)) {
    __m512 v[4];
    for (int j = 0; j < M; ++j) v[j] = _mm512_loadu_ps(o + j * p.stride);
    untranspose_groups(v);
    for (int q = 0; q < 4 && 16 * q < hi; ++q) _mm512_mask_storeu_ps(row + 16 * q, bit_range(0, hi - 16 * q), v[q]);
  });
}

// F(2x2, 3x3): a patch row is 4 floats starting every 2, so 16 tiles' rows are 34 consecutive
// floats; columns 0 and 1 are the even and odd floats, columns 2 and 3 those shifted by one tile.
// A chunk's whole 4 x 4 patches fit in 16 registers, so the two transform halves (rows, then
// columns: input_2d's order and rounding) run there and V is written directly, without the staging
// round trip the larger tiles take (16 stores and 16 loads per chunk and channel). With taps_simd
// (conv2d_winograd_kernels.h) it made the 48x48 passes 1.5-4.4% faster (check_conv2d --bench, 2
// threads, best of 4 alternations, 2026-12-04, Zen 4): forward C52 -> 52 369 -> 385 effective
// GFLOP/s, C104 -> 52 388 -> 402; weight pass 279 -> 290, 334 -> 340.
void input_tiles_f2(const InputJob<float>& p) {
  constexpr int M = 2, A = 4;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i next = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
  const __m512i next2 = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17);
  // Masked loads and stores throughout: unmasked ones for whole chunks (as F(4x4) has) measured 7%
  // slower in the weight-gradient pass (check_conv2d --bench --pass weight, 48x48, one thread).
  // The job's fields in locals: to the compiler the stores may write anywhere, p included.
  const int64_t h = p.h, w = p.w, off_h = p.off_h, off_w = p.off_w, v_xi = p.v_xi, v_panel = p.v_panel, nr = p.nr;
  const int64_t next_offset = p.next_plane ? p.next_plane - p.plane : 0;
  float* const v = p.v;
  // Lanes [l0, l0 + n) (n <= 16) of every point xi: lane l lies at v + xi * v_xi + (l / nr) *
  // v_panel + l % nr, so a chunk that crosses a panel's end is two masked stores, the second at an
  // address shifted back by the first part's lanes (an integer: it may lie before the panel). A
  // chunk crosses at most one panel end because panels are at least 16 lanes wide (the AVX-512
  // GEMM's 32 in the forward, the whole block in the weight pass).
  auto store_lanes = [&](int64_t l0, int64_t n, const __m512 (&o)[A * A]) __attribute__((always_inline)) {
    const int64_t at = l0 % nr, n1 = std::min<int64_t>(n, nr - at);
    float* const first = v + (l0 / nr) * v_panel + at;
    for (int xi = 0; xi < A * A; ++xi) _mm512_mask_storeu_ps(first + xi * v_xi, bit_range(0, n1), o[xi]);
    if (n1 < n) {
      const uintptr_t second = reinterpret_cast<uintptr_t>(v + (l0 / nr + 1) * v_panel) - uintptr_t(n1 * int64_t(sizeof(float)));
      for (int xi = 0; xi < A * A; ++xi)
        _mm512_mask_storeu_ps(reinterpret_cast<float*>(second + uintptr_t(xi * v_xi * int64_t(sizeof(float)))), bit_range(n1, n), o[xi]);
    }
  };
  for (int s = 0; s < p.nsegs; ++s) {
    const Seg g = p.segs[s];
    const float* plane = p.plane + g.n * p.batch_stride;
    for (int64_t c0 = 0; c0 < g.len; c0 += 16) {
      const int64_t nl = g.len - c0 < 16 ? g.len - c0 : 16;
      const int64_t iw0 = (g.tx0 + c0) * M + off_w;  // column of float 0
      const int64_t lo = -iw0, hi = std::min<int64_t>(w - iw0, nl * M + 2);
      __m512 t[A][A];  // row r of the patches, transformed along the row (t = d B)
      for (int r = 0; r < A; ++r) {
        const int64_t ih = g.ty * M + r + off_h;
        if (ih < 0 || ih >= h) {
          for (int k = 0; k < A; ++k) t[r][k] = _mm512_setzero_ps();
          continue;
        }
        const uintptr_t base = reinterpret_cast<uintptr_t>(plane + ih * w) + uintptr_t(iw0 * int64_t(sizeof(float)));
        // The channels' planes lie far apart, which the hardware prefetchers do not follow: ask
        // for this row of the next channel now (a prefetch never faults).
        if (next_offset) {
          const uintptr_t at = base + uintptr_t(next_offset * int64_t(sizeof(float)));
          for (int q = 0; q < 3; ++q) _mm_prefetch(reinterpret_cast<const char*>(at + uintptr_t(q * 64)), _MM_HINT_T0);
        }
        __m512 x[3];
        for (int q = 0; q < 3; ++q)
          x[q] = _mm512_maskz_loadu_ps(bit_range(lo - 16 * q, hi - 16 * q), reinterpret_cast<const float*>(base + uintptr_t(q * 64)));
        const __m512 k0 = _mm512_permutex2var_ps(x[0], even, x[1]), k1 = _mm512_permutex2var_ps(x[0], odd, x[1]);
        typedef float Vf __attribute__((vector_size(64)));
        const Vf d[A] = {Vf(k0), Vf(k1), Vf(_mm512_permutex2var_ps(k0, next, x[2])), Vf(_mm512_permutex2var_ps(k1, next2, x[2]))};
        Vf o[A];
        Wino<M>::in(d, o);
        for (int k = 0; k < A; ++k) t[r][k] = __m512(o[k]);
      }
      __m512 o[A * A];  // point (i, j) at o[i * A + j]
      for (int j = 0; j < A; ++j) {
        typedef float Vf __attribute__((vector_size(64)));
        const Vf col[A] = {Vf(t[0][j]), Vf(t[1][j]), Vf(t[2][j]), Vf(t[3][j])};
        Vf res[A];
        Wino<M>::in(col, res);
        for (int i = 0; i < A; ++i) o[i * A + j] = __m512(res[i]);
      }
      store_lanes(g.lane0 + c0, nl, o);
    }
  }
  if (p.valid < p.lanes) {
    __m512 zeros[A * A];
    for (__m512& z : zeros) z = _mm512_setzero_ps();
    for (int64_t l = p.valid; l < p.lanes; l += 16) store_lanes(l, std::min<int64_t>(16, p.lanes - l), zeros);
  }
}

void unstage_output_f2(const OutputJob<float>& p) {
  constexpr int M = 2;
  const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi_idx = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  unstage_rows<M, 16>(p, [&](const float* o, float* row, int64_t hi) __attribute__((always_inline)) {
    const __m512 a = _mm512_loadu_ps(o), b = _mm512_loadu_ps(o + p.stride);
    _mm512_mask_storeu_ps(row, bit_range(0, hi), _mm512_permutex2var_ps(a, lo_idx, b));
    if (hi > 16) _mm512_mask_storeu_ps(row + 16, bit_range(0, hi - 16), _mm512_permutex2var_ps(a, hi_idx, b));
  });
}

// The weight gradient's staging of gy: 16 tiles' rows are 16 * M consecutive floats, tile t's column
// j at float M t + j; read as M registers (masked loads zero what lies past the plane's width or the
// chunk), split into the tiles' M columns by permutes (split_row), each stored as one chunk of lanes.
// The portable loop, one float at a time, was 8-9% of an F(2x2) weight pass and 6.5% of an F(4x4)
// one (perf, 48x48, batch 1, 2 threads).
template <int M, class SplitRow>
__attribute__((always_inline)) inline void stage_grad_rows(const GradJob<float>& p, SplitRow&& split_row) {
  // The job's fields in locals: to the compiler the stores may write anywhere, p included.
  const int64_t stride = p.stride, h = p.h, w = p.w;
  for (int s = 0; s < p.nsegs; ++s) {
    const Seg g = p.segs[s];
    const float* plane = p.plane + g.n * p.batch_stride;
    for (int64_t c0 = 0; c0 < g.len; c0 += 16) {
      const int64_t nl = g.len - c0 < 16 ? g.len - c0 : 16;
      const __mmask16 lanes = bit_range(0, nl);
      const int64_t x0 = (g.tx0 + c0) * M;
      const int64_t hi = std::min<int64_t>(w - x0, nl * M);  // floats of the row to read
      float* d = p.d + g.lane0 + c0;
      for (int i = 0; i < M; ++i, d += M * stride) {
        const int64_t y = g.ty * M + i;
        __m512 col[M];
        if (y >= h) {
          for (int j = 0; j < M; ++j) col[j] = _mm512_setzero_ps();
        } else {
          // Addresses in integers: past the plane's last row they lie outside the allocation,
          // which a masked-off load never touches but pointer arithmetic may not name.
          const uintptr_t src = reinterpret_cast<uintptr_t>(plane + y * w + x0);
          __m512 v[M];
          for (int q = 0; q < M; ++q) v[q] = _mm512_maskz_loadu_ps(bit_range(0, hi - 16 * q), reinterpret_cast<const float*>(src + uintptr_t(64 * q)));
          split_row(v, col);
        }
        for (int j = 0; j < M; ++j) _mm512_mask_storeu_ps(d + j * stride, lanes, col[j]);
      }
    }
  }
  if (p.valid < p.lanes)
    for (int e = 0; e < M * M; ++e) std::fill(p.d + e * stride + p.valid, p.d + e * stride + p.lanes, 0.f);
}

// F(2x2): the even and odd floats of the two registers.
void stage_grad_f2(const GradJob<float>& p) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  stage_grad_rows<2>(p, [&](const __m512 (&v)[2], __m512 (&col)[2]) __attribute__((always_inline)) {
    col[0] = _mm512_permutex2var_ps(v[0], even, v[1]);
    col[1] = _mm512_permutex2var_ps(v[0], odd, v[1]);
  });
}

// F(4x4): in each register pair (tiles 0-7, tiles 8-15) one permute puts columns j and j + 1 of its
// 8 tiles in lanes 0-7 and 8-15; a shuffle of 128-bit blocks joins the pairs' halves.
void stage_grad_f4(const GradJob<float>& p) {
  const __m512i cols01 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
  const __m512i cols23 = _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
  stage_grad_rows<4>(p, [&](const __m512 (&v)[4], __m512 (&col)[4]) __attribute__((always_inline)) {
    const __m512 lo01 = _mm512_permutex2var_ps(v[0], cols01, v[1]), hi01 = _mm512_permutex2var_ps(v[2], cols01, v[3]);
    const __m512 lo23 = _mm512_permutex2var_ps(v[0], cols23, v[1]), hi23 = _mm512_permutex2var_ps(v[2], cols23, v[3]);
    col[0] = _mm512_shuffle_f32x4(lo01, hi01, 0x44);
    col[1] = _mm512_shuffle_f32x4(lo01, hi01, 0xEE);
    col[2] = _mm512_shuffle_f32x4(lo23, hi23, 0x44);
    col[3] = _mm512_shuffle_f32x4(lo23, hi23, 0xEE);
  });
}

// F(6x6, 3x3): a patch row is 8 floats starting every 6, so 16 tiles' rows are 98 consecutive
// floats, more than two registers hold. Windows of 32 floats starting every 30 hold the rows of 5
// tiles each (6 * 4 + 7 = 31): for column k, one two-register permute per window (lane t takes
// float 6 (t mod 5) + k) and blends by lane group give all 16 tiles.
struct F6Tables {
  alignas(64) int32_t column[8][16];   // input: 6 (t mod 5) + k
  alignas(64) int32_t pick[6][3][16];  // output: float 16q + e of the row from registers 2p, 2p + 1
  __mmask16 pick_mask[6][3];
  F6Tables() {
    for (int k = 0; k < 8; ++k)
      for (int t = 0; t < 16; ++t) column[k][t] = 6 * (t % 5) + k;
    for (int q = 0; q < 6; ++q)
      for (int pr = 0; pr < 3; ++pr) {
        pick_mask[q][pr] = 0;
        for (int e = 0; e < 16; ++e) {
          const int f = 16 * q + e, t = f / 6, j = f % 6;
          pick[q][pr][e] = j / 2 == pr ? (j % 2) * 16 + t : 0;
          if (j / 2 == pr) pick_mask[q][pr] = __mmask16(pick_mask[q][pr] | (1u << e));
        }
      }
  }
};
const F6Tables& f6_tables() {
  static const F6Tables t;
  return t;
}

void stage_input_f6(const InputJob<float>& p) {
  constexpr int M = 6, A = 8;
  const F6Tables& tb = f6_tables();
  __m512i column[A];
  for (int k = 0; k < A; ++k) column[k] = _mm512_load_si512(tb.column[k]);
  stage_rows<M, 7>(p, [&](const PatchRow& row) __attribute__((always_inline)) {
    const int windows = (row.nl + 4) / 5;
    __m512 win[4][2];
    for (int j = 0; j < windows; ++j)
      for (int h = 0; h < 2; ++h) {
        const int64_t at = 30 * j + 16 * h;
        win[j][h] = _mm512_maskz_loadu_ps(bit_range(row.lo - at, row.hi - at), reinterpret_cast<const float*>(row.base + uintptr_t(at * 4)));
      }
    typedef float V __attribute__((vector_size(64)));
    V cols[A], t[A];
    for (int k = 0; k < A; ++k) {
      __m512 v = _mm512_permutex2var_ps(win[0][0], column[k], win[0][1]);
      if (windows > 1) v = _mm512_mask_mov_ps(v, 0x03E0, _mm512_permutex2var_ps(win[1][0], column[k], win[1][1]));
      if (windows > 2) v = _mm512_mask_mov_ps(v, 0x7C00, _mm512_permutex2var_ps(win[2][0], column[k], win[2][1]));
      if (windows > 3) v = _mm512_mask_mov_ps(v, 0x8000, _mm512_permutex2var_ps(win[3][0], column[k], win[3][1]));
      cols[k] = V(v);
    }
    // The row half of the input transform while the row is in registers (input_tiles does the
    // columns); lanes past the chunk are never stored.
    Wino<M>::in(cols, t);
    for (int k = 0; k < A; ++k) _mm512_mask_storeu_ps(row.d + k * row.stride, row.lanes, __m512(t[k]));
  });
}

void unstage_output_f6(const OutputJob<float>& p) {
  constexpr int M = 6;
  const F6Tables& tb = f6_tables();
  unstage_rows<M, 16>(p, [&](const float* o, float* row, int64_t hi) __attribute__((always_inline)) {
    __m512 y[M];
    for (int j = 0; j < M; ++j) y[j] = _mm512_loadu_ps(o + j * p.stride);
    for (int q = 0; q < 6 && 16 * q < hi; ++q) {
      __m512 v = _mm512_permutex2var_ps(y[0], _mm512_load_si512(tb.pick[q][0]), y[1]);
      v = _mm512_mask_mov_ps(v, tb.pick_mask[q][1], _mm512_permutex2var_ps(y[2], _mm512_load_si512(tb.pick[q][1]), y[3]));
      v = _mm512_mask_mov_ps(v, tb.pick_mask[q][2], _mm512_permutex2var_ps(y[4], _mm512_load_si512(tb.pick[q][2]), y[5]));
      _mm512_mask_storeu_ps(row + 16 * q, bit_range(0, hi - 16 * q), v);
    }
  });
}

// F(8x8, 3x3): a patch row is 10 floats starting every 8, so 16 tiles' rows are 130 consecutive
// floats: eight registers hold two tiles' first 8 floats each, and a 16 x 8 transpose in three
// rounds of two-register permutes (each round swaps one bit of the register number with one of
// the lane number) gives columns 0..7 of all 16 tiles; columns 8 and 9 are columns 0 and 1 shifted
// by one tile. The output is the same network run backwards. 26 permutes per patch row against
// F(6x6)'s 56 (whose 6-float steps do not align with the registers).
struct F8Tables {
  // Round r pairs the registers that differ in bit kBit[r] of their number: output register j
  // reads registers j & ~bit (lanes 0..15 of the permute) and j | bit (16..31). The layouts are bit
  // permutations, so a round has two index vectors: [0] for the outputs whose `bit` is clear, [1]
  // for the others (six in all per direction, held in registers).
  static constexpr int kInBit[3] = {1, 2, 4}, kOutBit[3] = {4, 2, 1};
  alignas(64) int32_t in[3][2][16], out[3][2][16];
  // Where the value of tile t, column k lies in each layout: the row as loaded (register t / 2,
  // lane 8 (t % 2) + k), two intermediate ones, and the columns (register k, lane t).
  static void place(int layout, int t, int k, int& reg, int& lane) {
    const int t0 = t & 1, t1 = t >> 1 & 1, t2 = t >> 2 & 1, t3 = t >> 3, k0 = k & 1, k1 = k >> 1 & 1, k2 = k >> 2;
    switch (layout) {
      case 0: reg = t >> 1, lane = t0 << 3 | k; break;
      case 1: reg = t3 << 2 | t2 << 1 | k0, lane = t1 << 3 | t0 << 2 | k2 << 1 | k1; break;
      case 2: reg = t3 << 2 | k1 << 1 | k0, lane = t2 << 3 | t1 << 2 | t0 << 1 | k2; break;
      default: reg = k, lane = t;
    }
  }
  // The permute indices from layout `from` to layout `to` (each value's source register is j & ~bit
  // or j | bit, and the lanes' sources do not depend on j's other bits, by construction of the
  // layouts; check_conv2d compares every output).
  static void build(int32_t (&idx)[2][16], int from, int to, int bit) {
    for (int t = 0; t < 16; ++t)
      for (int k = 0; k < 8; ++k) {
        int fr, fl, tr, tl;
        place(from, t, k, fr, fl);
        place(to, t, k, tr, tl);
        idx[(tr & bit) ? 1 : 0][tl] = fl + (fr == (tr | bit) ? 16 : 0);
      }
  }
  F8Tables() {
    for (int r = 0; r < 3; ++r) build(in[r], r, r + 1, kInBit[r]), build(out[r], 3 - r, 2 - r, kOutBit[r]);
  }
};
const F8Tables& f8_tables() {
  static const F8Tables t;
  return t;
}

// A round's two index vectors.
struct F8Round {
  __m512i clear, set;
  explicit F8Round(const int32_t (&idx)[2][16]) : clear(_mm512_load_si512(idx[0])), set(_mm512_load_si512(idx[1])) {}
};

// One round: the register numbers are compile-time constants, so x stays in registers.
template <int Bit>
inline void permute_round(const F8Round& r, __m512 (&x)[8]) {
  __m512 y[8];
  for (int j = 0; j < 8; ++j) y[j] = _mm512_permutex2var_ps(x[j & ~Bit], (j & Bit) ? r.set : r.clear, x[j | Bit]);
  for (int j = 0; j < 8; ++j) x[j] = y[j];
}

void stage_input_f8(const InputJob<float>& p) {
  constexpr int M = 8, A = 10;
  const F8Tables& tb = f8_tables();
  const F8Round r0(tb.in[0]), r1(tb.in[1]), r2(tb.in[2]);
  const __m512i next = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
  const __m512i next2 = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17);
  stage_rows<M, 9>(p, [&](const PatchRow& row) __attribute__((always_inline)) {
    __m512 v[9];
    load_row(row, v);
    __m512 x[8];
    for (int q = 0; q < 8; ++q) x[q] = v[q];
    permute_round<1>(r0, x);
    permute_round<2>(r1, x);
    permute_round<4>(r2, x);
    typedef float V __attribute__((vector_size(64)));
    V cols[A], t[A];
    for (int k = 0; k < 8; ++k) cols[k] = V(x[k]);
    // Columns 8 and 9 of tile t are columns 0 and 1 of tile t + 1 (floats 128, 129 for t = 15).
    cols[8] = V(_mm512_permutex2var_ps(x[0], next, v[8]));
    cols[9] = V(_mm512_permutex2var_ps(x[1], next2, v[8]));
    // The row half of the input transform while the row is in registers (input_tiles does the
    // columns); lanes past the chunk are never stored.
    Wino<M>::in(cols, t);
    for (int k = 0; k < A; ++k) _mm512_mask_storeu_ps(row.d + k * row.stride, row.lanes, __m512(t[k]));
  });
}

void unstage_output_f8(const OutputJob<float>& p) {
  constexpr int M = 8;
  const F8Tables& tb = f8_tables();
  const F8Round r0(tb.out[0]), r1(tb.out[1]), r2(tb.out[2]);
  unstage_rows<M, 16>(p, [&](const float* o, float* row, int64_t hi) __attribute__((always_inline)) {
    __m512 x[M];
    for (int j = 0; j < M; ++j) x[j] = _mm512_loadu_ps(o + j * p.stride);
    permute_round<4>(r0, x);
    permute_round<2>(r1, x);
    permute_round<1>(r2, x);
    for (int q = 0; q < 8 && 16 * q < hi; ++q) _mm512_mask_storeu_ps(row + 16 * q, bit_range(0, hi - 16 * q), x[q]);
  });
}

}  // namespace

const TileKernels<float>& tile_kernels_avx512() {
  static const TileKernels<float> k = [] {
    // F(2x2)'s input: staging and transform in one (input_tiles_f2, above).
    TileKernels<float> t =
        make_tile_kernels<float, 16, InlineSelu<simd::VecAvx512>, &input_tiles_f2, &unstage_output_f2, &stage_input_f4, &unstage_output_f4,
                          &stage_input_f6, &unstage_output_f6, true, true, &stage_grad_f2, &stage_input_f8, &unstage_output_f8, true,
                          &stage_grad_f4>();
    t.taps = &taps_simd<simd::VecAvx512>;
    return t;
  }();
  return k;
}

}  // namespace mpf::cpu::winograd
