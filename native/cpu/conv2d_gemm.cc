// conv2d (float) as implicit GEMM on the SGEMM driver (gemm.h). No im2col matrix is ever built:
// the driver asks for one cache-sized block of it at a time, and the packers below produce that
// block straight from the input parts in the panel layout the micro-kernels read.
//
//   forward:         y[n]   (Cout x OH*OW)   = W (Cout x Cin*KK)            · col(x[n])
//   backward data:   gx[n]  (Cin x H*W)      = flip(W)^T (Cin x Cout*KK)    · col'(gy[n])   (stride 1)
//                    gcol[n] (Cin*KK x OH*OW) = W^T · gy[n], then col2im      (any stride)
//   backward weight: gW     (Cout x Cin*KK)  = [gy[0] .. gy[N-1]] · [col(x[0]) .. col(x[N-1])]^T
// where col(x)[(c, kh, kw), (oh, ow)] = x[c, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw] (0 outside),
// KK = KH*KW, and col' is col over gy with padding d*(k-1) - p, so that its output is H x W.
#include <algorithm>
#include <array>
#include <cstring>

#include "common/cpu_features.h"
#include "common/errors.h"
#include "common/thread_pool.h"
#include "cpu/conv2d_impl.h"
#include "cpu/gemm.h"

namespace mpf::cpu::conv2d_detail {
namespace {

// The planes an im2col view reads: channel c of image n starts at plane0[c] + n * batch_stride[c].
struct Planes {
  std::vector<const float*> plane0;
  std::vector<int64_t> batch_stride;
  int64_t h = 0, w = 0;  // plane size
};

Planes planes_of_parts(const Conv2dShape& s, const std::vector<const float*>& xs) {
  Planes p;
  p.h = s.in_h;
  p.w = s.in_w;
  part_planes(s, xs, p.plane0, p.batch_stride);
  return p;
}

// col(src)[(c, kh, kw), p] over output pixels p = oh * ow_n + ow.
struct Im2col {
  const Planes* src;
  int64_t kh_n, kw_n;  // kernel size
  int64_t sh, sw, ph, pw, dh, dw;
  int64_t oh_n, ow_n;  // output size
  // 1x1, stride 1, no padding: col rows are the planes themselves.
  bool identity() const { return kh_n == 1 && kw_n == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && oh_n == src->h && ow_n == src->w; }
};

// out[t] = col(plane; kernel tap at (offh, offw))[p + t] for t < count, starting at pixel (oh, ow).
inline void col_run(const Im2col& v, const float* plane, int64_t offh, int64_t offw, int64_t oh, int64_t ow,
                    int64_t count, float* out) {
  const int64_t H = v.src->h, W = v.src->w;
  while (count > 0) {
    const int64_t run = std::min(count, v.ow_n - ow);
    const int64_t ih = oh * v.sh + offh;
    if (ih < 0 || ih >= H) {
      for (int64_t t = 0; t < run; ++t) out[t] = 0.f;
    } else {
      const float* row = plane + ih * W;
      const int64_t iw = ow * v.sw + offw;
      if (v.sw == 1) {
        const int64_t lo = std::clamp<int64_t>(-iw, 0, run), hi = std::clamp<int64_t>(W - iw, lo, run);
        for (int64_t t = 0; t < lo; ++t) out[t] = 0.f;
        for (int64_t t = lo; t < hi; ++t) out[t] = row[iw + t];
        for (int64_t t = hi; t < run; ++t) out[t] = 0.f;
      } else {
        for (int64_t t = 0; t < run; ++t) {
          const int64_t x = iw + t * v.sw;
          out[t] = x >= 0 && x < W ? row[x] : 0.f;
        }
      }
    }
    out += run;
    count -= run;
    ++oh;
    ow = 0;
  }
}

// Splits pixels [p_begin, p_begin + count) into groups of `width` and each group into runs within
// one output row, and tabulates each run's bounds per kernel row and column (see ColPanels).
// Only the x86 and NEON packers use the tables; other architectures compile it unused.
[[maybe_unused]] void build_col_tables(const Im2col& v, int64_t p_begin, int64_t count, int64_t width, ColTables& t) {
  const Planes& src = *v.src;
  t.seg_begin.clear();
  t.row_off.clear();
  t.row_mask.clear();
  t.col_off.clear();
  t.mask.clear();
  int32_t nseg = 0;
  for (int64_t g0 = p_begin; g0 < p_begin + count; g0 += width) {
    t.seg_begin.push_back(nseg);
    const int64_t g_end = std::min(p_begin + count, g0 + width);
    for (int64_t px = g0; px < g_end; ++nseg) {
      const int64_t oh = px / v.ow_n, ow = px % v.ow_n, len = std::min(g_end - px, v.ow_n - ow), lane = px - g0;
      for (int64_t kh = 0; kh < v.kh_n; ++kh) {
        const int64_t ih = oh * v.sh + kh * v.dh - v.ph;
        const bool inside = ih >= 0 && ih < src.h;
        t.row_off.push_back(inside ? ih * src.w : 0);
        t.row_mask.push_back(inside ? ~0u : 0u);
      }
      for (int64_t kw = 0; kw < v.kw_n; ++kw) {
        const int64_t iw0 = ow + kw * v.dw - v.pw;  // source column of the run's first pixel
        const int64_t lo = std::clamp<int64_t>(-iw0, 0, len), hi = std::clamp<int64_t>(src.w - iw0, lo, len);
        const uint64_t a = uint64_t(lane + lo), e = uint64_t(lane + hi);
        t.mask.push_back(uint32_t(((uint64_t(1) << e) - 1) & ~((uint64_t(1) << a) - 1)));
        t.col_off.push_back(iw0 - lane);
      }
      px += len;
    }
  }
  t.seg_begin.push_back(nseg);
}

// B panels of col(src of image b): rows [k0, k0 + kc) x pixels [n0, n0 + nc).
void pack_col_panels(const Im2col& v, int64_t b, int64_t k0, int64_t kc, int64_t n0, int64_t nc, int nr, float* dst) {
  const Planes& src = *v.src;
  const int64_t panels = (nc + nr - 1) / nr;
  const int64_t stride = kc * nr;
  if (v.identity()) {
    // Consecutive channels of one part are equally spaced planes: pack them as a strided matrix.
    const int64_t hw = src.h * src.w;
    int64_t kk = 0;
    while (kk < kc) {
      const int64_t c0 = k0 + kk;
      int64_t len = 1;
      while (kk + len < kc && src.plane0[size_t(c0 + len)] == src.plane0[size_t(c0)] + len * hw &&
             src.batch_stride[size_t(c0 + len)] == src.batch_stride[size_t(c0)])
        ++len;
      const float* base = src.plane0[size_t(c0)] + b * src.batch_stride[size_t(c0)] + n0;
      sgemm_pack_b_rows(base, hw, len, nc, nr, dst + kk * nr, stride);
      kk += len;
    }
    return;
  }
#if defined(MPF_X86) || defined(MPF_NEON)
  const Simd level = simd_level();
  if (v.sw == 1 && ((level == Simd::AVX512 && nr == 32) || (level == Simd::AVX2 && nr == 16) || (level == Simd::Neon && nr == 16))) {
    // Cut each panel into runs within one output row, and work out each run's bounds per kernel
    // row and column, once per block; the vector packer then only looks them up.
    thread_local ColTables t;
    build_col_tables(v, n0, nc, nr, t);
    const ColPanels job{src.plane0.data(), src.batch_stride.data(), v.kh_n, v.kw_n, b, k0, kc, panels,
                        t.seg_begin.data(), t.row_off.data(), t.row_mask.data(), t.col_off.data(), t.mask.data(), dst};
#if defined(MPF_X86)
    if (level == Simd::AVX512) pack_col_panels_avx512(job);
    else pack_col_panels_avx2(job);
#else
    pack_col_panels_neon(job);
#endif
    return;
  }
#endif
  constexpr int64_t kMaxPanels = 128;
  if (panels > kMaxPanels) throw_range("conv2d: internal block of ", panels, " panels exceeds ", kMaxPanels);
  std::array<int64_t, kMaxPanels> oh0, ow0;
  for (int64_t j = 0; j < panels; ++j) {
    oh0[size_t(j)] = (n0 + j * nr) / v.ow_n;
    ow0[size_t(j)] = (n0 + j * nr) % v.ow_n;
  }
  const int64_t kk_n = v.kh_n * v.kw_n;
  for (int64_t kk = 0; kk < kc; ++kk) {
    const int64_t k = k0 + kk, c = k / kk_n, r = k % kk_n;
    const int64_t offh = (r / v.kw_n) * v.dh - v.ph, offw = (r % v.kw_n) * v.dw - v.pw;
    const float* plane = src.plane0[size_t(c)] + b * src.batch_stride[size_t(c)];
    for (int64_t j = 0; j < panels; ++j) {
      float* d = dst + j * stride + kk * nr;
      const int64_t w = std::min<int64_t>(nr, nc - j * nr);
      col_run(v, plane, offh, offw, oh0[size_t(j)], ow0[size_t(j)], w, d);
      for (int64_t t = w; t < nr; ++t) d[t] = 0.f;
    }
  }
}

// The reduction of the weight gradient runs over (image, pixel) pairs, k = n * P + p; a block of
// it may straddle images. Calls fn(n, p0, len, offset) for each piece.
template <typename F>
void for_each_image_piece(int64_t k0, int64_t kc, int64_t P, F fn) {
  int64_t k = k0;
  while (k < k0 + kc) {
    const int64_t n = k / P, p0 = k % P, len = std::min(P - p0, k0 + kc - k);
    fn(n, p0, len, k - k0);
    k += len;
  }
}

}  // namespace

void forward_implicit_gemm(const Conv2dShape& s, const std::vector<const float*>& xs, const float* w, const float* b, float* y,
                           Conv2dActivation act) {
  const Planes src = planes_of_parts(s, xs);
  const int64_t OH = s.out_h(), OW = s.out_w(), KK = s.kernel_h * s.kernel_w;
  const Im2col view{&src, s.kernel_h, s.kernel_w, s.stride_h, s.stride_w, s.pad_h, s.pad_w, s.dilation_h, s.dilation_w, OH, OW};
  const int64_t K = s.total_in_channels() * KK;
  SgemmProblem p;
  p.M = s.out_channels;
  p.N = OH * OW;
  p.K = K;
  p.batch = s.batch;
  p.pack_a = [=](int64_t m0, int mr, int64_t k0, int64_t kc, float* dst) { sgemm_pack_a_rows(w + m0 * K + k0, K, mr, kc, dst); };
  p.pack_b = [&](int64_t bi, int64_t k0, int64_t kc, int64_t n0, int64_t nc, int nr, float* dst) {
    pack_col_panels(view, bi, k0, kc, n0, nc, nr, dst);
  };
  p.out = {{0, s.out_channels, y, OH * OW, s.out_channels * OH * OW}};
  p.bias_row = b;
  if (act != Conv2dActivation::None)
    p.finish = [=](int64_t bi, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
      for (int64_t m = m0; m < m1; ++m) conv2d_activation_apply(act, y + (bi * s.out_channels + m) * OH * OW + n0, n1 - n0);
    };
  sgemm_packed(p);
}

void backward_data_implicit_gemm(const Conv2dShape& s, const float* w, const float* gy, const std::vector<float*>& gxs) {
  const int64_t OH = s.out_h(), OW = s.out_w(), KK = s.kernel_h * s.kernel_w, Cin = s.total_in_channels();
  const int64_t Cout = s.out_channels;
  Planes src;
  src.h = OH;
  src.w = OW;
  for (int64_t c = 0; c < Cout; ++c) {
    src.plane0.push_back(gy + c * OH * OW);
    src.batch_stride.push_back(Cout * OH * OW);
  }
  const Im2col view{&src, s.kernel_h, s.kernel_w, 1, 1, s.dilation_h * (s.kernel_h - 1) - s.pad_h,
                    s.dilation_w * (s.kernel_w - 1) - s.pad_w, s.dilation_h, s.dilation_w, s.in_h, s.in_w};
  SgemmProblem p;
  p.M = Cin;
  p.N = s.in_h * s.in_w;
  p.K = Cout * KK;
  p.batch = s.batch;
  // A(ci, (co, kh, kw)) = W[co, ci, KH-1-kh, KW-1-kw]: the kernel turned around, in and out swapped.
  p.pack_a = [=](int64_t m0, int mr, int64_t k0, int64_t kc, float* dst) {
    for (int64_t kk = 0; kk < kc; ++kk) {
      const int64_t k = k0 + kk, co = k / KK, rf = KK - 1 - k % KK;
      const float* src_w = w + (co * Cin + m0) * KK + rf;
      for (int i = 0; i < mr; ++i) dst[kk * mr + i] = src_w[i * KK];
    }
  };
  p.pack_b = [&](int64_t bi, int64_t k0, int64_t kc, int64_t n0, int64_t nc, int nr, float* dst) {
    pack_col_panels(view, bi, k0, kc, n0, nc, nr, dst);
  };
  int64_t c0 = 0;
  for (size_t j = 0; j < gxs.size(); ++j) {
    const int64_t cj = s.in_channels[j];
    if (gxs[j]) p.out.push_back({c0, c0 + cj, gxs[j], s.in_h * s.in_w, cj * s.in_h * s.in_w});
    c0 += cj;
  }
  sgemm_packed(p);
}

void backward_data_gemm_col2im(const Conv2dShape& s, const float* w, const float* gy, const std::vector<float*>& gxs) {
  const int64_t OH = s.out_h(), OW = s.out_w(), P = OH * OW, KH = s.kernel_h, KW = s.kernel_w, KK = KH * KW;
  const int64_t Cin = s.total_in_channels(), Cout = s.out_channels, M = Cin * KK, H = s.in_h, W = s.in_w;
  float* gcol = thread_scratch(kScratchCaller, M * P);
  std::vector<std::pair<float*, int64_t>> plane_of(size_t(Cin), {nullptr, 0});  // (image-0 plane, batch stride)
  int64_t c0 = 0;
  for (size_t j = 0; j < gxs.size(); ++j) {
    for (int64_t c = 0; c < s.in_channels[j]; ++c)
      if (gxs[j]) plane_of[size_t(c0 + c)] = {gxs[j] + c * H * W, s.in_channels[j] * H * W};
    c0 += s.in_channels[j];
  }
  for (int64_t n = 0; n < s.batch; ++n) {
    SgemmProblem p;
    p.M = M;
    p.N = P;
    p.K = Cout;
    p.pack_a = [=](int64_t m0, int mr, int64_t k0, int64_t kc, float* dst) { sgemm_pack_a_cols(w + k0 * M + m0, M, mr, kc, dst); };
    p.pack_b = [=](int64_t, int64_t k0, int64_t kc, int64_t n0, int64_t nc, int nr, float* dst) {
      sgemm_pack_b_rows(gy + (n * Cout + k0) * P + n0, P, kc, nc, nr, dst, 0);
    };
    p.out = {{0, M, gcol, P, 0}};
    sgemm_packed(p);
    parallel_for(Cin, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, KK * P)), [&](int64_t ci0, int64_t ci1) {
      for (int64_t ci = ci0; ci < ci1; ++ci) {
        if (!plane_of[size_t(ci)].first) continue;
        float* gx = plane_of[size_t(ci)].first + n * plane_of[size_t(ci)].second;
        std::fill(gx, gx + H * W, 0.f);
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw) {
            const float* row = gcol + ((ci * KH + kh) * KW + kw) * P;
            for (int64_t oh = 0; oh < OH; ++oh) {
              const int64_t ih = oh * s.stride_h - s.pad_h + kh * s.dilation_h;
              if (ih < 0 || ih >= H) continue;
              for (int64_t ow = 0; ow < OW; ++ow) {
                const int64_t iw = ow * s.stride_w - s.pad_w + kw * s.dilation_w;
                if (iw >= 0 && iw < W) gx[ih * W + iw] += row[oh * OW + ow];
              }
            }
          }
      }
    });
  }
}

void backward_weight_implicit_gemm(const Conv2dShape& s, const std::vector<const float*>& xs, const float* gy, float* gw) {
  const Planes src = planes_of_parts(s, xs);
  const int64_t OH = s.out_h(), OW = s.out_w(), P = OH * OW, KK = s.kernel_h * s.kernel_w;
  const int64_t Cout = s.out_channels, N = s.total_in_channels() * KK;
  const Im2col view{&src, s.kernel_h, s.kernel_w, s.stride_h, s.stride_w, s.pad_h, s.pad_w, s.dilation_h, s.dilation_w, OH, OW};
  const bool identity = view.identity();
#if defined(MPF_X86)
  const bool vector_rows = s.stride_w == 1 && simd_level() == Simd::AVX512;
#else
  const bool vector_rows = false;
#endif
  SgemmProblem p;
  p.M = Cout;
  p.N = N;
  p.K = s.batch * P;
  p.pack_a = [=](int64_t m0, int mr, int64_t k0, int64_t kc, float* dst) {
    for_each_image_piece(k0, kc, P, [&](int64_t n, int64_t p0, int64_t len, int64_t off) {
      sgemm_pack_a_rows(gy + (n * Cout + m0) * P + p0, P, mr, len, dst + off * mr);
    });
  };
  // B(k = (n, p), j = (c, kh, kw)) = col(x[n])[j, p]: the block's col rows (contiguous along
  // pixels, read as streams) are gathered into a scratch tile, then transposed into panels in
  // registers. (Packing the transposed panels straight from the input measured no faster: the
  // 16 taps of a transpose read 16 far-apart rows at once.)
  p.pack_b = [&](int64_t, int64_t k0, int64_t kc, int64_t n0, int64_t nc, int nr, float* dst) {
    float* tile = thread_scratch(kScratchPacker, nc * kc);
    // The block's pieces (and their pixel coordinates) are the same for every column: worked out
    // once, and the columns' (channel, kernel row, kernel column) stepped, not divided out per
    // column (the divisions were ~12% of the 128x128 d3 weight gradient's samples).
    struct Piece {
      int64_t n, p0, len, off, oh, ow, next_oh;
    };
    thread_local std::vector<Piece> pieces;
    pieces.clear();
    for_each_image_piece(k0, kc, P, [&](int64_t n, int64_t p0, int64_t len, int64_t off) {
      pieces.push_back({n, p0, len, off, p0 / OW, p0 % OW, (p0 + len) / OW});
    });
    int64_t c = n0 / KK, kh = (n0 % KK) / s.kernel_w, kw = (n0 % KK) % s.kernel_w;
    for (int64_t jj = 0; jj < nc; ++jj) {
      const int64_t offh = kh * s.dilation_h - s.pad_h, offw = kw * s.dilation_w - s.pad_w;
      for (const Piece& pc : pieces) {
        const float* plane = src.plane0[size_t(c)] + pc.n * src.batch_stride[size_t(c)];
        float* out = tile + jj * kc + pc.off;
        if (identity) {
          // Each row is a different channel plane, too many streams for the hardware prefetchers:
          // ask for this row's next block now, it is read by the next reduction block.
          for (int64_t q = pc.p0 + pc.len; q < std::min(P, pc.p0 + 2 * pc.len); q += 16) __builtin_prefetch(plane + q, 0, 2);
          std::memcpy(out, plane + pc.p0, size_t(pc.len) * sizeof(float));
        } else if (vector_rows) {
#if defined(MPF_X86)
          // As above: the next block reads the rows below (other planes for the taps that follow,
          // so the hardware prefetchers lose this one); ask for them once per kernel row (kw 0).
          // Measured (1 thread, N1 C52->52 128x128 d3): gathering 30% of the time before.
          if (kw == 0 && pc.p0 + pc.len < P) {
            const int64_t ih = pc.next_oh * s.stride_h + offh;
            if (ih >= 0 && ih < s.in_h)
              for (int64_t q = 0; q < std::min(s.in_w, pc.len + (s.kernel_w - 1) * s.dilation_w); q += 16)
                __builtin_prefetch(plane + ih * s.in_w + q, 0, 2);
          }
          col_run_avx512({plane, s.in_h, s.in_w, OW, s.stride_h, offh, offw}, pc.oh, pc.ow, pc.len, out);
#endif
        } else {
          col_run(view, plane, offh, offw, pc.oh, pc.ow, pc.len, out);
        }
      }
      if (++kw == s.kernel_w) {
        kw = 0;
        if (++kh == s.kernel_h) {
          kh = 0;
          ++c;
        }
      }
    }
    sgemm_pack_b_cols(tile, kc, kc, nc, nr, dst, 0);
  };
  // All weight columns in one block when they fit, so each task packs its slice of gy only once.
  p.nc_max = 512;
  p.kc_max = 128;
  p.out = {{0, Cout, gw, N, 0}};
  sgemm_packed(p);
}

}  // namespace mpf::cpu::conv2d_detail
