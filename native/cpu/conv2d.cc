// conv2d entry points: shape arithmetic, the per-shape algorithm choice, the bias gradient.
#include "cpu/conv2d.h"

#include <algorithm>
#include <numeric>

#include "common/thread_pool.h"
#include "cpu/conv2d_impl.h"

namespace mpf::cpu {

int64_t Conv2dShape::total_in_channels() const {
  return std::accumulate(in_channels.begin(), in_channels.end(), int64_t(0));
}

static int64_t out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  const int64_t span = in + 2 * pad - dil * (k - 1) - 1;
  // Floor division (span may be negative for impossible shapes; the caller rejects those).
  return (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
}

int64_t Conv2dShape::out_h() const { return out_size(in_h, kernel_h, stride_h, pad_h, dilation_h); }
int64_t Conv2dShape::out_w() const { return out_size(in_w, kernel_w, stride_w, pad_w, dilation_w); }

double Conv2dShape::macs() const {
  return double(batch) * double(out_channels) * double(out_h()) * double(out_w()) * double(total_in_channels()) *
         double(kernel_h) * double(kernel_w);
}

// One place decides how each pass runs for a shape: new algorithms (Winograd for 3x3, direct
// kernels for small channel counts) plug in here without touching callers.
Conv2dAlgo conv2d_algo(const Conv2dShape& s, Conv2dPass pass) {
  switch (pass) {
    case Conv2dPass::Forward:
    case Conv2dPass::BackwardWeight:
      return Conv2dAlgo::ImplicitGemm;
    case Conv2dPass::BackwardData:
      // The transposed-convolution trick needs stride 1 (a strided conv's gradient is sparse).
      return s.stride_h == 1 && s.stride_w == 1 ? Conv2dAlgo::ImplicitGemm : Conv2dAlgo::GemmCol2im;
  }
  return Conv2dAlgo::Direct;
}

const char* conv2d_algo_name(Conv2dAlgo a) {
  switch (a) {
    case Conv2dAlgo::Direct: return "direct";
    case Conv2dAlgo::ImplicitGemm: return "implicit-gemm";
    case Conv2dAlgo::GemmCol2im: return "gemm-col2im";
  }
  return "?";
}

template <>
void conv2d_forward<float>(const Conv2dShape& s, const std::vector<const float*>& xs, const float* w, const float* b, float* y) {
  switch (conv2d_algo(s, Conv2dPass::Forward)) {
    case Conv2dAlgo::ImplicitGemm: return conv2d_detail::forward_implicit_gemm(s, xs, w, b, y);
    default: return conv2d_forward_direct(s, xs, w, b, y);
  }
}
template <>
void conv2d_forward<double>(const Conv2dShape& s, const std::vector<const double*>& xs, const double* w, const double* b, double* y) {
  conv2d_forward_direct(s, xs, w, b, y);
}

template <>
void conv2d_backward_data<float>(const Conv2dShape& s, const float* w, const float* gy, const std::vector<float*>& gxs) {
  switch (conv2d_algo(s, Conv2dPass::BackwardData)) {
    case Conv2dAlgo::ImplicitGemm: return conv2d_detail::backward_data_implicit_gemm(s, w, gy, gxs);
    case Conv2dAlgo::GemmCol2im: return conv2d_detail::backward_data_gemm_col2im(s, w, gy, gxs);
    default: return conv2d_backward_data_direct(s, w, gy, gxs);
  }
}
template <>
void conv2d_backward_data<double>(const Conv2dShape& s, const double* w, const double* gy, const std::vector<double*>& gxs) {
  conv2d_backward_data_direct(s, w, gy, gxs);
}

template <>
void conv2d_backward_weight<float>(const Conv2dShape& s, const std::vector<const float*>& xs, const float* gy, float* gw) {
  switch (conv2d_algo(s, Conv2dPass::BackwardWeight)) {
    case Conv2dAlgo::ImplicitGemm: return conv2d_detail::backward_weight_implicit_gemm(s, xs, gy, gw);
    default: return conv2d_backward_weight_direct(s, xs, gy, gw);
  }
}
template <>
void conv2d_backward_weight<double>(const Conv2dShape& s, const std::vector<const double*>& xs, const double* gy, double* gw) {
  conv2d_backward_weight_direct(s, xs, gy, gw);
}

template <typename T>
void conv2d_backward_bias(const Conv2dShape& s, const T* gy, T* gb) {
  const int64_t P = s.out_h() * s.out_w(), C = s.out_channels;
  // Sums in double with 8 independent partial sums: accurate for long sums and still vectorisable.
  parallel_for(C, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, P * s.batch)), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double part[8] = {};
      for (int64_t n = 0; n < s.batch; ++n) {
        const T* g = gy + (n * C + c) * P;
        int64_t p = 0;
        for (; p + 8 <= P; p += 8)
          for (int j = 0; j < 8; ++j) part[j] += double(g[p + j]);
        for (; p < P; ++p) part[0] += double(g[p]);
      }
      double sum = 0;
      for (double v : part) sum += v;
      gb[c] = T(sum);
    }
  });
}

template void conv2d_backward_bias<float>(const Conv2dShape&, const float*, float*);
template void conv2d_backward_bias<double>(const Conv2dShape&, const double*, double*);

}  // namespace mpf::cpu
