// conv2d as plain direct loops: the float64 path, and the reference the fast float paths are
// checked against (test/conv2d.test.ts, native/tools/check_conv2d.cc). Written for clarity: each
// output plane is one task, every tap is a bounds-checked multiply-add.
#include <algorithm>

#include "common/thread_pool.h"
#include "cpu/conv2d.h"

namespace mpf::cpu {
namespace {

// Where global input channel ci lives: part j, channel c of that part.
struct ChannelMap {
  std::vector<int> part;
  std::vector<int64_t> local;
  explicit ChannelMap(const Conv2dShape& s) {
    for (size_t j = 0; j < s.in_channels.size(); ++j)
      for (int64_t c = 0; c < s.in_channels[j]; ++c) {
        part.push_back(int(j));
        local.push_back(c);
      }
  }
};

// Enough multiply-adds per task to be worth a thread hand-off.
int64_t grain_for(int64_t macs_per_item) { return std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(1, macs_per_item)); }

}  // namespace

template <typename T>
void conv2d_forward_direct(const Conv2dShape& s, const std::vector<const T*>& xs, const T* w, const T* b, T* y,
                           Conv2dActivation act) {
  const ChannelMap map(s);
  const int64_t H = s.in_h, W = s.in_w, OH = s.out_h(), OW = s.out_w(), Cin = s.total_in_channels();
  const int64_t Cout = s.out_channels, KH = s.kernel_h, KW = s.kernel_w;
  parallel_for(s.batch * Cout, grain_for(OH * OW * Cin * KH * KW), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t n = i / Cout, co = i % Cout;
      T* out = y + i * OH * OW;
      std::fill(out, out + OH * OW, b ? b[co] : T(0));
      for (int64_t ci = 0; ci < Cin; ++ci) {
        const int j = map.part[size_t(ci)];
        const T* plane = xs[size_t(j)] + (n * s.in_channels[size_t(j)] + map.local[size_t(ci)]) * H * W;
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw) {
            const T wv = w[((co * Cin + ci) * KH + kh) * KW + kw];
            for (int64_t oh = 0; oh < OH; ++oh) {
              const int64_t ih = oh * s.stride_h - s.pad_h + kh * s.dilation_h;
              if (ih < 0 || ih >= H) continue;
              for (int64_t ow = 0; ow < OW; ++ow) {
                const int64_t iw = ow * s.stride_w - s.pad_w + kw * s.dilation_w;
                if (iw >= 0 && iw < W) out[oh * OW + ow] += wv * plane[ih * W + iw];
              }
            }
          }
      }
      conv2d_activation_apply(act, out, OH * OW);  // the plane is finished
    }
  });
}

template <typename T>
void conv2d_backward_data_direct(const Conv2dShape& s, const T* w, const T* gy, const std::vector<T*>& gxs) {
  const ChannelMap map(s);
  const int64_t H = s.in_h, W = s.in_w, OH = s.out_h(), OW = s.out_w(), Cin = s.total_in_channels();
  const int64_t Cout = s.out_channels, KH = s.kernel_h, KW = s.kernel_w;
  parallel_for(s.batch * Cin, grain_for(OH * OW * Cout * KH * KW), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t n = i / Cin, ci = i % Cin;
      const int j = map.part[size_t(ci)];
      if (!gxs[size_t(j)]) continue;
      T* gx = gxs[size_t(j)] + (n * s.in_channels[size_t(j)] + map.local[size_t(ci)]) * H * W;
      std::fill(gx, gx + H * W, T(0));
      for (int64_t co = 0; co < Cout; ++co) {
        const T* g = gy + (n * Cout + co) * OH * OW;
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw) {
            const T wv = w[((co * Cin + ci) * KH + kh) * KW + kw];
            for (int64_t oh = 0; oh < OH; ++oh) {
              const int64_t ih = oh * s.stride_h - s.pad_h + kh * s.dilation_h;
              if (ih < 0 || ih >= H) continue;
              for (int64_t ow = 0; ow < OW; ++ow) {
                const int64_t iw = ow * s.stride_w - s.pad_w + kw * s.dilation_w;
                if (iw >= 0 && iw < W) gx[ih * W + iw] += wv * g[oh * OW + ow];
              }
            }
          }
      }
    }
  });
}

template <typename T>
void conv2d_backward_weight_direct(const Conv2dShape& s, const std::vector<const T*>& xs, const T* gy, T* gw) {
  const ChannelMap map(s);
  const int64_t H = s.in_h, W = s.in_w, OH = s.out_h(), OW = s.out_w(), Cin = s.total_in_channels();
  const int64_t Cout = s.out_channels, KH = s.kernel_h, KW = s.kernel_w;
  parallel_for(Cout * Cin, grain_for(s.batch * OH * OW * KH * KW), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t co = i / Cin, ci = i % Cin;
      const int j = map.part[size_t(ci)];
      for (int64_t kh = 0; kh < KH; ++kh)
        for (int64_t kw = 0; kw < KW; ++kw) {
          T acc = T(0);
          for (int64_t n = 0; n < s.batch; ++n) {
            const T* plane = xs[size_t(j)] + (n * s.in_channels[size_t(j)] + map.local[size_t(ci)]) * H * W;
            const T* g = gy + (n * Cout + co) * OH * OW;
            for (int64_t oh = 0; oh < OH; ++oh) {
              const int64_t ih = oh * s.stride_h - s.pad_h + kh * s.dilation_h;
              if (ih < 0 || ih >= H) continue;
              for (int64_t ow = 0; ow < OW; ++ow) {
                const int64_t iw = ow * s.stride_w - s.pad_w + kw * s.dilation_w;
                if (iw >= 0 && iw < W) acc += g[oh * OW + ow] * plane[ih * W + iw];
              }
            }
          }
          gw[((co * Cin + ci) * KH + kh) * KW + kw] = acc;
        }
    }
  });
}

#define MPF_CONV2D_DIRECT(T)                                                                                         \
  template void conv2d_forward_direct<T>(const Conv2dShape&, const std::vector<const T*>&, const T*, const T*, T*, Conv2dActivation); \
  template void conv2d_backward_data_direct<T>(const Conv2dShape&, const T*, const T*, const std::vector<T*>&);      \
  template void conv2d_backward_weight_direct<T>(const Conv2dShape&, const std::vector<const T*>&, const T*, T*);
MPF_CONV2D_DIRECT(float)
MPF_CONV2D_DIRECT(double)
#undef MPF_CONV2D_DIRECT

}  // namespace mpf::cpu
