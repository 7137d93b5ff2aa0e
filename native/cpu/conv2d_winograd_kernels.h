// The Winograd tile kernels as templates (see conv2d_winograd_tiles.h for the jobs). Included by
// one translation unit per instruction set; everything has internal linkage (unnamed namespace),
// so the copies compiled with different flags are never merged by the linker.
//
// Lanes are GCC/Clang vectors (vector_size): the compiler maps them onto whatever registers the
// translation unit's flags allow (SSE2, AVX2 or AVX-512), so the arithmetic is written once.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "cpu/conv2d_winograd_math.h"
#include "cpu/conv2d_winograd_tiles.h"
#include "cpu/simd/unary.h"

// Vectors wider than the baseline ISA are fine inside these inline functions; GCC only warns that
// passing them across an ABI boundary would differ, which never happens here.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace mpf::cpu::winograd {
namespace {

template <typename T, int L>
struct Vec;
template <>
struct Vec<float, 8> {
  typedef float type __attribute__((vector_size(32)));
};
template <>
struct Vec<float, 16> {
  typedef float type __attribute__((vector_size(64)));
};
template <>
struct Vec<double, 8> {
  typedef double type __attribute__((vector_size(64)));
};

template <typename V, typename T>
inline V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T, typename V>
inline void store(T* p, const V& v) {
  std::memcpy(p, &v, sizeof v);
}
// The first n lanes of v (n <= lanes), with fixed-size copies (a variable-size memcpy is a call).
template <typename T, typename V>
inline void store_first(T* p, const V& v, int n) {
  constexpr int L = int(sizeof(V) / sizeof(T));
  T lanes[L];
  store(lanes, v);
  switch (n) {
#define MPF_STORE_CASE(k) \
  case k:                 \
    if constexpr (k <= L) std::memcpy(p, lanes, k * sizeof(T)); \
    return;
    MPF_STORE_CASE(1) MPF_STORE_CASE(2) MPF_STORE_CASE(3) MPF_STORE_CASE(4) MPF_STORE_CASE(5) MPF_STORE_CASE(6)
    MPF_STORE_CASE(7) MPF_STORE_CASE(8) MPF_STORE_CASE(9) MPF_STORE_CASE(10) MPF_STORE_CASE(11) MPF_STORE_CASE(12)
    MPF_STORE_CASE(13) MPF_STORE_CASE(14) MPF_STORE_CASE(15) MPF_STORE_CASE(16)
#undef MPF_STORE_CASE
    default: std::memcpy(p, lanes, size_t(n) * sizeof(T));
  }
}

// ---- input: stage the patches, transform, write the B panels ------------------------------------

// d[(r * a + k) * stride + lane] = input(row ty*m + r + off_h, column tx*m + k + off_w) of the
// lane's tile, zero outside the plane; lanes [valid, lanes) zero.
template <int M, typename T>
void stage_input_portable(const InputJob<T>& p) {
  constexpr int A = M + 2;
  for (int s = 0; s < p.nsegs; ++s) {
    const Seg& g = p.segs[s];
    const T* plane = p.plane + g.n * p.batch_stride;
    const int64_t iw0 = g.tx0 * M + p.off_w;
    const bool inside_w = iw0 >= 0 && iw0 + (g.len - 1) * M + A <= p.w;
    for (int r = 0; r < A; ++r) {
      T* d = p.d + r * A * p.stride + g.lane0;
      const int64_t ih = g.ty * M + r + p.off_h;
      if (ih < 0 || ih >= p.h) {
        for (int k = 0; k < A; ++k) std::fill(d + k * p.stride, d + k * p.stride + g.len, T(0));
        continue;
      }
      const T* row = plane + ih * p.w;
      if (inside_w) {
        for (int64_t i = 0; i < g.len; ++i)
          for (int k = 0; k < A; ++k) d[k * p.stride + i] = row[iw0 + i * M + k];
      } else {
        for (int64_t i = 0; i < g.len; ++i)
          for (int k = 0; k < A; ++k) {
            const int64_t iw = iw0 + i * M + k;
            d[k * p.stride + i] = iw >= 0 && iw < p.w ? row[iw] : T(0);
          }
      }
    }
  }
  if (p.valid < p.lanes)
    for (int e = 0; e < A * A; ++e) std::fill(p.d + e * p.stride + p.valid, p.d + e * p.stride + p.lanes, T(0));
}

// RowsDone: Stage has already applied the row half of Bt d B (t = d B, in registers as it staged;
// F(4x4), F(6x6) and F(8x8) on AVX-512), so only the columns remain. F(6x6)'s 64-value tiles and
// F(8x8)'s 100 are done in two halves either way: all of them at once would not fit the registers.
template <int M, typename T, int L, void (*Stage)(const InputJob<T>&), bool RowsDone = false>
void input_tiles(const InputJob<T>& p) {
  using V = typename Vec<T, L>::type;
  using W = Wino<M>;
  constexpr int A = M + 2;
  Stage(p);
  if constexpr (M >= 6 || RowsDone) {
    for (int64_t l = 0; l < p.lanes; l += L) {
      if constexpr (!RowsDone)
        for (int r = 0; r < A; ++r) {
          V d[A], t[A];
          for (int k = 0; k < A; ++k) d[k] = load<V>(p.d + (r * A + k) * p.stride + l);
          W::in(d, t);
          for (int k = 0; k < A; ++k) store(p.d + (r * A + k) * p.stride + l, t[k]);
        }
      T* v = p.v + (l / p.nr) * p.v_panel + l % p.nr;
      for (int j = 0; j < A; ++j) {
        V col[A], o[A];
        for (int r = 0; r < A; ++r) col[r] = load<V>(p.d + (r * A + j) * p.stride + l);
        W::in(col, o);
        for (int i = 0; i < A; ++i) store(v + (i * A + j) * p.v_xi, o[i]);
      }
    }
    return;
  }
  for (int64_t l = 0; l < p.lanes; l += L) {
    V d[A][A], o[A][A];
    for (int r = 0; r < A; ++r)
      for (int k = 0; k < A; ++k) d[r][k] = load<V>(p.d + (r * A + k) * p.stride + l);
    input_2d<M, V>(d, o);
    T* v = p.v + (l / p.nr) * p.v_panel + l % p.nr;
    for (int i = 0; i < A; ++i)
      for (int j = 0; j < A; ++j) store(v + (i * A + j) * p.v_xi, o[i][j]);
  }
}

// ---- output: transform the products back, add the bias, activate, write the plane --------------

// output(row ty*m + i, column tx*m + j) = o[(i * m + j) * stride + lane], cut at the plane's edge.
template <int M, typename T>
void unstage_output_portable(const OutputJob<T>& p) {
  for (int s = 0; s < p.nsegs; ++s) {
    const Seg& g = p.segs[s];
    T* plane = p.plane + g.n * p.batch_stride;
    const int64_t ow0 = g.tx0 * M;
    const int64_t full = std::min(g.len, (p.ow - ow0) / M);  // tiles entirely inside the width
    for (int i = 0; i < M; ++i) {
      const int64_t oh = g.ty * M + i;
      if (oh >= p.oh) break;
      T* row = plane + oh * p.ow + ow0;
      const T* o = p.o + i * M * p.stride + g.lane0;
      for (int64_t l = 0; l < full; ++l)
        for (int j = 0; j < M; ++j) row[l * M + j] = o[j * p.stride + l];
      for (int64_t l = full; l < g.len; ++l)
        for (int j = 0; j < M && ow0 + l * M + j < p.ow; ++j) row[l * M + j] = o[j * p.stride + l];
    }
  }
}

// The unstaging loop of the x86 files' shuffle networks (conv2d_winograd_avx512.cc with 16 lanes,
// _avx2.cc with 8): for each segment, each chunk of up to `Lanes` of its tiles and each of the tiles'
// m output rows that lies inside the plane, the same row of the next channel is prefetched and
// write_row(o, row, hi) writes the first hi floats of image row `row` from the chunk's staged values
// of that tile row (value j of tile t at o + j * stride + t).
template <int M, int Lanes, class WriteRow>
__attribute__((always_inline)) inline void unstage_rows(const OutputJob<float>& p, WriteRow&& write_row) {
  const int64_t next_offset = p.next_plane ? p.next_plane - p.plane : 0;
  for (int s = 0; s < p.nsegs; ++s) {
    const Seg& g = p.segs[s];
    float* plane = p.plane + g.n * p.batch_stride;
    for (int64_t c0 = 0; c0 < g.len; c0 += Lanes) {
      const int64_t nl = g.len - c0 < Lanes ? g.len - c0 : Lanes;
      const int64_t ow0 = (g.tx0 + c0) * M;
      const int64_t hi = std::min<int64_t>(p.ow - ow0, nl * M);  // floats of the row to write
      const float* o = p.o + g.lane0 + c0;
      for (int i = 0; i < M; ++i) {
        const int64_t oh = g.ty * M + i;
        if (oh >= p.oh) break;
        // Rows are written a few lines at a time into planes far apart, and a line the store
        // misses must first be read (the stores wait in the store queue meanwhile): ask for the
        // same row of the next channel now. For 256^2 planes (out of L2) a C52 -> 52 forward
        // under 'bf16' ran 9% faster (check_conv2d, 2 threads, four alternations: 675-750 -> 763-821
        // effective GFLOP/s), a x4 inference at 256^2 2% (profile-step.js, three alternations,
        // native 1198-1212 -> 1181-1190 ms; 'fp32' 1-2%), on 2026-12-04 (Zen 4).
        if (next_offset) {
          const uintptr_t at = reinterpret_cast<uintptr_t>(plane + oh * p.ow + ow0) + uintptr_t(next_offset * int64_t(sizeof(float)));
          for (uintptr_t line = at & ~uintptr_t(63); line < at + uintptr_t(hi * int64_t(sizeof(float))); line += 64)
            __builtin_prefetch(reinterpret_cast<const char*>(line), 0, 3);
        }
        write_row(o + i * M * p.stride, plane + oh * p.ow + ow0, hi);
      }
    }
  }
}

// The fused activation (OutputJob::act). StagedActivation, the default: conv2d_activation_apply
// over the staged rows, with run-time dispatch, so the portable kernels (and float64) match the
// unary op on every CPU. The x86 files pass a policy with kInline that applies SELU to each vector
// as it is stored, through cpu/simd/unary.h over their vector type: per staged row, the call and
// dispatch would cost more than the exp itself (a row is only `lanes` = 64..128 values).
struct StagedActivation {
  static constexpr bool kInline = false;
};

// The inline policy over a vector type VT of cpu/simd/vec.h with the lanes of V (the x86 files):
// selu, or selu_inference (the inference precisions' shorter exp, OutputJob::short_exp).
template <class VT>
struct InlineSelu {
  static constexpr bool kInline = true;
  template <typename V>
  static V selu(V v) {
    return through(v, [](typename VT::F x) { return simd::UnaryOps<VT>::selu(x); });
  }
  template <typename V>
  static V selu_inference(V v) {
    return through(v, [](typename VT::F x) { return simd::UnaryOps<VT>::selu_inference(x); });
  }

 private:
  // op over the tile vector seen as VT's vector.
  template <typename V, class Op>
  static V through(V v, Op op) {
    typename VT::F x;
    static_assert(sizeof x == sizeof v, "the tile vector and the SIMD vector must have the same lanes");
    std::memcpy(&x, &v, sizeof x);  // a register move once inlined
    x = op(x);
    std::memcpy(&v, &x, sizeof v);
    return v;
  }
};

template <int M, typename T, int L, void (*Unstage)(const OutputJob<T>&), class Act>
void output_tiles(const OutputJob<T>& p) {
  using V = typename Vec<T, L>::type;
  constexpr int A = M + 2;
  auto transform = [&](auto activate) {
    for (int64_t l = 0; l < p.lanes; l += L) {
      if constexpr (M >= 6) {
        // In two halves, like the input: rows of the products into h, then its columns.
        V h[A][M];
        for (int r = 0; r < A; ++r) {
          V t[A];
          for (int k = 0; k < A; ++k) t[k] = load<V>(p.m + (r * A + k) * p.m_xi + l);
          Wino<M>::out(t, h[r]);
        }
        for (int j = 0; j < M; ++j) {
          V col[A], y[M];
          for (int r = 0; r < A; ++r) col[r] = h[r][j];
          Wino<M>::out(col, y);
          for (int i = 0; i < M; ++i) store(p.o + (i * M + j) * p.stride + l, activate(V(y[i] + p.bias)));
        }
        continue;
      }
      V t[A][A], y[M][M];
      for (int i = 0; i < A; ++i)
        for (int j = 0; j < A; ++j) t[i][j] = load<V>(p.m + (i * A + j) * p.m_xi + l);
      output_2d<M>(t, y);
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < M; ++j) store(p.o + (i * M + j) * p.stride + l, activate(V(y[i][j] + p.bias)));
    }
  };
  // The staged values are final here: sum them per lane while they are in L1, then write them.
  auto finish = [&] {
    if (p.lane_sums)
      for (int64_t l = 0; l < p.lanes; l += L) {
        V acc = load<V>(p.o + l);
        for (int e = 1; e < M * M; ++e) acc = acc + load<V>(p.o + e * p.stride + l);
        store(p.lane_sums + l, acc);
      }
    Unstage(p);
  };
  if constexpr (Act::kInline) {
    if (p.act == Conv2dActivation::Selu) {
      if (p.short_exp) transform([](V v) { return Act::selu_inference(v); });
      else transform([](V v) { return Act::selu(v); });
      return finish();
    }
  }
  transform([](V v) { return v; });
  if (p.act != Conv2dActivation::None)
    for (int e = 0; e < M * M; ++e) conv2d_activation_apply(p.act, p.o + e * p.stride, p.lanes);
  finish();
}

// ---- weights: G g Gt, in the micro-kernels' packed A layout ---------------------------------------

// fn(k, r) for every column k and every `step`-th row r, along whichever of rows and columns is the
// inner stride. The forward's kernels (rows = output channels, 3.7 KB apart for c1) go rows outer,
// so a group of rows is read as that many forward streams; column by column over all 52 rows they
// were 52 streams advancing 36 bytes each, which the prefetchers lost, and inside a step the weights
// come from memory (Adam touched every parameter since): the whole weight preparation took 20% less
// (docs/performance.md, "Weights per thread"). The data pass's rows (input channels) are 9 floats
// apart: columns outer, one stream per column.
template <typename T, class Fn>
void for_each_kernel_streaming(const TapsJob<T>& p, int64_t step, Fn&& fn) {
  if (p.row_stride > p.col_stride)
    for (int64_t r = 0; r < p.rows; r += step)
      for (int64_t k = 0; k < p.cols; ++k) fn(k, r);
  else
    for (int64_t k = 0; k < p.cols; ++k)
      for (int64_t r = 0; r < p.rows; r += step) fn(k, r);
}

// Tap-major kernels (TapsJob). Per column each row's 9 taps are contiguous: read in order, written
// to the 9 tap rows. (Tap by tap, every row's taps were read 9 times, 9 floats or a whole kernel
// row apart: the data pass at 48x48 ran 3-4% slower, docs/performance.md.)
template <typename T>
void taps_portable(const TapsJob<T>& p) {
  const int64_t plane = p.rows * p.cols;
  for_each_kernel_streaming(p, 1, [&](int64_t k, int64_t r) {
    const T* taps = p.weight + k * p.col_stride + p.row_id[r] * p.row_stride;
    T* dst = p.wt + k * p.rows + r;
    if (p.flip)
      for (int e = 0; e < 9; ++e) dst[e * plane] = taps[8 - e];
    else
      for (int e = 0; e < 9; ++e) dst[e * plane] = taps[e];
  });
}

// The same with a square in-register transpose (V: simd/vec.h, float): W rows' taps, W at a time,
// become W tap rows of W rows each. Every thread transposes the kernels for its own weight
// transform, so at 48x48 with batch 1 this is no small part of a pass: in a C104 -> 52 forward
// (perf, 2 threads, Zen 4) the portable loop took 4.5-6% of the time, this one 2.1%.
template <class V>
void taps_simd(const TapsJob<float>& p) {
  constexpr int W = V::kWidth;
  const int64_t plane = p.rows * p.cols;
  typename V::F r[W];
  for_each_kernel_streaming(p, W, [&](int64_t k, int64_t r0) {
    const float* col = p.weight + k * p.col_stride;
    float* dst = p.wt + k * p.rows;
    const int n = int(p.rows - r0 < W ? p.rows - r0 : W);
    for (int e0 = 0; e0 < 9; e0 += W) {
      const int taps = 9 - e0 < W ? 9 - e0 : W;
      for (int i = 0; i < W; ++i) r[i] = i < n ? V::load_first(col + p.row_id[r0 + i] * p.row_stride + e0, taps) : V::zero();
      V::transpose(r);
      for (int j = 0; j < taps; ++j) V::store_first(dst + (p.flip ? 8 - e0 - j : e0 + j) * plane + r0, n, r[j]);
    }
  });
}

template <int M, typename T, int L>
void weight_tiles(const WeightJob<T>& p) {
  using V = typename Vec<T, L>::type;
  constexpr int A = M + 2;
  // The job in locals (the stores below may alias it as far as the compiler knows).
  const int mr = p.mr;
  const int64_t kc = p.kc, u_xi = p.u_xi, rows = p.rows, tap_stride = p.cols * p.rows;
  const T* const wt = p.wt + p.k0 * rows + p.m0;
  for (int64_t kk = 0; kk < kc; ++kk) {
    // u = G g Gt for the kernels of rows m0 .. m0 + mr - 1 (lanes past mr: whatever follows in wt,
    // never stored). Each kernel row goes through G as soon as it is loaded, so g is never kept
    // whole and the 3 x a row results plus one column's fit the registers.
    V h[3][A];
    for (int r = 0; r < 3; ++r) {
      V g[3];
      for (int c = 0; c < 3; ++c) g[c] = load<V>(wt + (r * 3 + c) * tap_stride + kk * rows);
      Wino<M>::weight(g, h[r]);
    }
    // Then the columns, straight into the packed tile: whole vectors while they fit (lanes past
    // mr land on the slots of the next kernels, which are written after this, in order); the
    // tile's last few kernels take exact widths.
    T* dst = p.u + kk * mr;
    auto columns = [&](auto put) {
      for (int j = 0; j < A; ++j) {
        const V col[3] = {h[0][j], h[1][j], h[2][j]};
        V u[A];
        Wino<M>::weight(col, u);
        for (int i = 0; i < A; ++i) put(dst + (i * A + j) * u_xi, u[i]);
      }
    };
    if (kk * mr + L <= kc * mr)
      columns([](T* q, const V& v) { store(q, v); });
    else
      columns([mr](T* q, const V& v) { store_first(q, v, mr); });
  }
}

// ---- weight gradient: A gy At per tile, and Gt u G at the end ------------------------------------

// Stage the m x m gradient tiles lane-major (d[(i * m + j) * stride + lane]), zero past the
// plane's edge and in lanes [valid, lanes).
template <int M, typename T>
void stage_grad_portable(const GradJob<T>& p) {
  for (int s = 0; s < p.nsegs; ++s) {
    const Seg& g = p.segs[s];
    const T* plane = p.plane + g.n * p.batch_stride;
    for (int i = 0; i < M; ++i) {
      T* d = p.d + i * M * p.stride + g.lane0;
      const int64_t y = g.ty * M + i;
      if (y >= p.h) {
        for (int j = 0; j < M; ++j) std::fill(d + j * p.stride, d + j * p.stride + g.len, T(0));
        continue;
      }
      const T* row = plane + y * p.w;
      for (int64_t l = 0; l < g.len; ++l)
        for (int j = 0; j < M; ++j) {
          const int64_t x = (g.tx0 + l) * M + j;
          d[j * p.stride + l] = x < p.w ? row[x] : T(0);
        }
    }
  }
  if (p.valid < p.lanes)
    for (int e = 0; e < M * M; ++e) std::fill(p.d + e * p.stride + p.valid, p.d + e * p.stride + p.lanes, T(0));
}

template <int M, typename T, int L, void (*Stage)(const GradJob<T>&)>
void grad_tiles(const GradJob<T>& p) {
  using V = typename Vec<T, L>::type;
  constexpr int A = M + 2;
  Stage(p);
  for (int64_t l = 0; l < p.lanes; l += L) {
    V y[M][M], z[A][A];
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < M; ++j) y[i][j] = load<V>(p.d + (i * M + j) * p.stride + l);
    out_adj_2d<M, V>(y, z);
    for (int i = 0; i < A; ++i)
      for (int j = 0; j < A; ++j) store(p.z + (i * A + j) * p.z_xi + l, z[i][j]);
  }
}

template <int M, typename T, int L>
void weight_grad_tiles(const WeightGradJob<T>& p) {
  using V = typename Vec<T, L>::type;
  constexpr int A = M + 2;
  for (int64_t l = 0; l < p.count; l += L) {
    const int64_t n = std::min<int64_t>(L, p.count - l);
    V u[A][A], g[3][3];
    for (int i = 0; i < A; ++i)
      for (int j = 0; j < A; ++j) {
        if (n == L) {
          u[i][j] = load<V>(p.u + (i * A + j) * p.u_xi + l);
        } else {
          T lanes[L] = {};
          std::copy(p.u + (i * A + j) * p.u_xi + l, p.u + (i * A + j) * p.u_xi + l + n, lanes);
          u[i][j] = load<V>(lanes);
        }
      }
    weight_adj_2d<M, V>(u, g);
    T out[9][L];
    for (int e = 0; e < 9; ++e) store(out[e], g[e / 3][e % 3]);
    for (int64_t q = 0; q < n; ++q)
      for (int e = 0; e < 9; ++e) p.g[(l + q) * 9 + e] = out[e][q];
  }
}

// The kernel table of one instruction set, with its activation policy, the given input kernel of
// F(2x2) (staging and transform: the x86 files do both in one pass), the given staging functions
// for F(4x4), F(6x6), F(8x8) (Stage4RowsDone, Stage6RowsDone, Stage8RowsDone: see input_tiles),
// the unstaging functions of all four, and the gradient staging of F(2x2) and F(4x4) (StageGrad2,
// StageGrad4; F(6x6) and F(8x8), never used for a weight gradient but where forced, keep the
// portable one).
template <typename T, int L, class Act = StagedActivation,
          void (*Input2)(const InputJob<T>&) = &input_tiles<2, T, L, &stage_input_portable<2, T>>,
          void (*Unstage2)(const OutputJob<T>&) = &unstage_output_portable<2, T>,
          void (*Stage4)(const InputJob<T>&) = &stage_input_portable<4, T>,
          void (*Unstage4)(const OutputJob<T>&) = &unstage_output_portable<4, T>,
          void (*Stage6)(const InputJob<T>&) = &stage_input_portable<6, T>,
          void (*Unstage6)(const OutputJob<T>&) = &unstage_output_portable<6, T>, bool Stage4RowsDone = false,
          bool Stage6RowsDone = false, void (*StageGrad2)(const GradJob<T>&) = &stage_grad_portable<2, T>,
          void (*Stage8)(const InputJob<T>&) = &stage_input_portable<8, T>,
          void (*Unstage8)(const OutputJob<T>&) = &unstage_output_portable<8, T>, bool Stage8RowsDone = false,
          void (*StageGrad4)(const GradJob<T>&) = &stage_grad_portable<4, T>>
TileKernels<T> make_tile_kernels() {
  TileKernels<T> k{};
  k.lanes = L;
  k.input[0] = Input2;
  k.input[1] = &input_tiles<4, T, L, Stage4, Stage4RowsDone>;
  k.input[2] = &input_tiles<6, T, L, Stage6, Stage6RowsDone>;
  k.input[3] = &input_tiles<8, T, L, Stage8, Stage8RowsDone>;
  k.output[0] = &output_tiles<2, T, L, Unstage2, Act>;
  k.output[1] = &output_tiles<4, T, L, Unstage4, Act>;
  k.output[2] = &output_tiles<6, T, L, Unstage6, Act>;
  k.output[3] = &output_tiles<8, T, L, Unstage8, Act>;
  k.weight[0] = &weight_tiles<2, T, L>;
  k.weight[1] = &weight_tiles<4, T, L>;
  k.weight[2] = &weight_tiles<6, T, L>;
  k.weight[3] = &weight_tiles<8, T, L>;
  k.grad[0] = &grad_tiles<2, T, L, StageGrad2>;
  k.grad[1] = &grad_tiles<4, T, L, StageGrad4>;
  k.grad[2] = &grad_tiles<6, T, L, &stage_grad_portable<6, T>>;
  k.grad[3] = &grad_tiles<8, T, L, &stage_grad_portable<8, T>>;
  k.weight_grad[0] = &weight_grad_tiles<2, T, L>;
  k.weight_grad[1] = &weight_grad_tiles<4, T, L>;
  k.weight_grad[2] = &weight_grad_tiles<6, T, L>;
  k.weight_grad[3] = &weight_grad_tiles<8, T, L>;
  k.taps = &taps_portable<T>;
  return k;
}

}  // namespace
}  // namespace mpf::cpu::winograd
