// Internal declarations shared by the conv2d files (conv2d.cc: shapes and dispatch,
// conv2d_direct.cc: reference loops, conv2d_gemm.cc: implicit-GEMM float paths).
#pragma once
#include <vector>

#include "cpu/conv2d.h"

#include <cstdint>
#include <vector>

namespace mpf::cpu::conv2d_detail {

// One block of im2col panels to pack: rows [k0, k0 + kc) of col(src) for batch item b, in
// `panels` panels of nr pixels. Each panel is a few runs of pixels within one output row
// ("segments"); the bounds work per segment and kernel tap is done once per block, in tables:
//   row_off[s * kh_n + kh]  offset of the source row in the plane (0 when it is padding)
//   row_mask[s * kh_n + kh] all ones, or 0 when the source row is padding
//   col_off[s * kw_n + kw]  source column that panel lane 0 would read
//   mask[s * kw_n + kw]     panel lanes (bits) whose source pixel exists
// Panel j holds segments [seg_begin[j], seg_begin[j + 1]); a panel row is the masked loads of its
// segments merged (their lanes are disjoint), zero elsewhere.
struct ColPanels {
  const float* const* plane0;   // per channel: plane of batch item 0
  const int64_t* batch_stride;  // per channel
  int64_t kh_n, kw_n;
  int64_t b, k0, kc, panels;
  const int32_t* seg_begin;
  const int64_t* row_off;
  const uint32_t* row_mask;
  const int64_t* col_off;
  const uint32_t* mask;
  float* dst;  // panel j at dst + j * kc * nr
};

// Bounds tables of a pixel range cut into groups of `width` pixels (panels), each group into runs
// within one output row: the arrays ColPanels points into.
struct ColTables {
  std::vector<int32_t> seg_begin;
  std::vector<int64_t> row_off, col_off;
  std::vector<uint32_t> row_mask, mask;
};

// out[t] = col(plane, tap (offh, offw))[pixel (oh, ow) + t] for t < count, contiguous (stride_w 1).
struct ColRun {
  const float* plane;
  int64_t h, w, ow_n, sh, offh, offw;
};

#if defined(MPF_X86)
void pack_col_panels_avx512(const ColPanels& p);  // nr = 32
void pack_col_panels_avx2(const ColPanels& p);    // nr = 16
void col_run_avx512(const ColRun& r, int64_t oh, int64_t ow, int64_t count, float* out);
#endif
#if defined(MPF_NEON)
void pack_col_panels_neon(const ColPanels& p);  // nr = 16
#endif

void forward_implicit_gemm(const Conv2dShape& s, const std::vector<const float*>& xs, const float* w, const float* b, float* y,
                           Conv2dActivation act);
// Stride 1: the gradient of the input is a convolution of gy with the flipped, transposed weight.
void backward_data_implicit_gemm(const Conv2dShape& s, const float* w, const float* gy, const std::vector<float*>& gxs);
// Any stride: columns = w^T · gy, then scattered back (col2im).
void backward_data_gemm_col2im(const Conv2dShape& s, const float* w, const float* gy, const std::vector<float*>& gxs);
void backward_weight_implicit_gemm(const Conv2dShape& s, const std::vector<const float*>& xs, const float* gy, float* gw);

// The input planes of a list of parts, across the parts: channel c of image n starts at
// planes[c] + n * strides[c] (appended to both vectors).
template <typename T>
void part_planes(const Conv2dShape& s, const std::vector<const T*>& xs, std::vector<const T*>& planes, std::vector<int64_t>& strides) {
  const int64_t hw = s.in_h * s.in_w;
  for (size_t j = 0; j < xs.size(); ++j)
    for (int64_t c = 0; c < s.in_channels[j]; ++c) {
      planes.push_back(xs[j] + c * hw);
      strides.push_back(s.in_channels[j] * hw);
    }
}

// Winograd F(m x m, 3 x 3), m = 2, 4, 6 or 8, for shapes where winograd_applies (conv2d_winograd.cc).
// bf16 (float only): the per-point GEMMs on bf16 operands (inference_precision.h), when the CPU
// has the kernels (float32 GEMMs otherwise). means (may be null): conv2d_forward's channel means.
bool winograd_applies(const Conv2dShape& s);
template <typename T>
void forward_winograd(const Conv2dShape& s, const std::vector<const T*>& xs, const T* w, const T* b, T* y, int m,
                      Conv2dActivation act, bool bf16 = false, T* means = nullptr);
template <typename T>
void backward_data_winograd(const Conv2dShape& s, const T* w, const T* gy, const std::vector<T*>& gxs, int m);
// gb (may be null) receives the bias gradient too, summed from the staged gy tiles.
template <typename T>
void backward_weight_winograd(const Conv2dShape& s, const std::vector<const T*>& xs, const T* gy, T* gw, T* gb, int m);

// Dilated 3x3, stride 1, padding = dilation: d*d plain convolutions on the sub-lattices, one batch
// (conv2d_lattice.cc), the nested convolution chosen by conv2d_algo (at the calling thread's precision).
bool lattice_applies(const Conv2dShape& s);
template <typename T>
void forward_lattice(const Conv2dShape& s, const std::vector<const T*>& xs, const T* w, const T* b, T* y, Conv2dActivation act,
                     T* channel_means);

}  // namespace mpf::cpu::conv2d_detail
