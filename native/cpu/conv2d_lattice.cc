// Dilated 3x3 convolutions as plain ones on their sub-lattices: the forward of the inference
// precisions, and of every dilated convolution when forced (setConvAlgorithm('lattice')).
//
// With stride 1, dilation d and padding d, output pixel (d*i + a, d*j + b) reads only input pixels
// of its own sub-lattice (d*i' + a, d*j' + b), and they are its plain 3x3 neighbours there: the
// dilated convolution is d*d undilated ones, each with padding 1, which Winograd can run. Lattice
// rows past the image are zeros, exactly what the dilated convolution's padding reads there, so the
// lattices are cut to one size, ceil(H / d) x ceil(W / d), and run as one batch of N*d*d images.
// The cost is one gather of x into the lattices and one scatter of the result back (each a plain
// strided copy over memory); MPF-Net's MPFE branches (d = 3, 6, 9 at 52 channels) are the users.
// conv2d_algo (conv2d.cc) decides where it runs and says what it measured.
#include <algorithm>
#include <vector>

#include "common/cpu_allocator.h"
#include "common/thread_pool.h"
#include "cpu/conv2d_impl.h"
#include "cpu/squeeze_excite.h"

namespace mpf::cpu::conv2d_detail {
namespace {

// A block from the tensors' caching allocator, returned on every exit: the lattice maps are as
// large as x and y, and a fresh mmap per call would page-fault through all of it. (It throws
// std::bad_alloc itself when memory runs out.)
template <typename T>
struct CachedBlock {
  T* p;
  size_t bytes;
  explicit CachedBlock(int64_t n) : p(static_cast<T*>(cpu_cached_alloc(size_t(n) * sizeof(T)))), bytes(size_t(n) * sizeof(T)) {}
  ~CachedBlock() { cpu_cached_free(p, bytes); }
  CachedBlock(const CachedBlock&) = delete;
  CachedBlock& operator=(const CachedBlock&) = delete;
};

}  // namespace

bool lattice_applies(const Conv2dShape& s) {
  return s.kernel_h == 3 && s.kernel_w == 3 && s.stride_h == 1 && s.stride_w == 1 && (s.dilation_h > 1 || s.dilation_w > 1) &&
         s.pad_h == s.dilation_h && s.pad_w == s.dilation_w;
}

template <typename T>
void forward_lattice(const Conv2dShape& s, const std::vector<const T*>& xs, const T* w, const T* b, T* y, Conv2dActivation act,
                     T* channel_means) {
  const int64_t dh = s.dilation_h, dw = s.dilation_w, H = s.in_h, W = s.in_w;
  const int64_t Hl = (H + dh - 1) / dh, Wl = (W + dw - 1) / dw, lattices = dh * dw;
  const int64_t C = s.total_in_channels(), Co = s.out_channels, N = s.batch;

  Conv2dShape ls = s;
  ls.batch = N * lattices;
  ls.in_channels = {C};
  ls.in_h = Hl;
  ls.in_w = Wl;
  ls.pad_h = ls.pad_w = 1;
  ls.dilation_h = ls.dilation_w = 1;

  // Gather: lattice (a, b) of image n is batch item n*dh*dw + a*dw + b; one task per input plane.
  CachedBlock<T> xl(ls.batch * C * Hl * Wl);
  std::vector<const T*> planes;
  std::vector<int64_t> strides;
  part_planes(s, xs, planes, strides);
  parallel_for(N * C, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / C, c = p % C;
      const T* src = planes[size_t(c)] + n * strides[size_t(c)];
      for (int64_t a = 0; a < dh; ++a)
        for (int64_t bb = 0; bb < dw; ++bb) {
          T* dst = xl.p + (((n * lattices + a * dw + bb) * C + c) * Hl) * Wl;
          const int64_t cols = (W - bb + dw - 1) / dw;  // lattice columns inside the image
          for (int64_t i = 0; i < Hl; ++i, dst += Wl) {
            const int64_t row = i * dh + a;
            if (row >= H) {
              std::fill(dst, dst + Wl, T(0));
              continue;
            }
            const T* r = src + row * W + bb;
            for (int64_t j = 0; j < cols; ++j) dst[j] = r[j * dw];
            for (int64_t j = cols; j < Wl; ++j) dst[j] = T(0);
          }
        }
    }
  });

  // The plain convolution of every lattice (Winograd at the calling thread's precision), bias and
  // activation included: both act per pixel, so they commute with the scatter.
  CachedBlock<T> yl(ls.batch * Co * Hl * Wl);
  conv2d_forward<T>(ls, {xl.p}, w, b, yl.p, act, nullptr);

  // Scatter: one task per output plane.
  parallel_for(N * Co, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / Co, co = p % Co;
      T* dst = y + p * H * W;
      for (int64_t row = 0; row < H; ++row) {
        const int64_t a = row % dh, i = row / dh;
        T* out = dst + row * W;
        for (int64_t bb = 0; bb < dw; ++bb) {
          const T* src = yl.p + (((n * lattices + a * dw + bb) * Co + co) * Hl + i) * Wl;
          const int64_t cols = (W - bb + dw - 1) / dw;
          for (int64_t j = 0; j < cols; ++j) out[j * dw + bb] = src[j];
        }
      }
    }
  });
  if (channel_means) se_pool(y, channel_means, N, Co, H * W);
}

template void forward_lattice<float>(const Conv2dShape&, const std::vector<const float*>&, const float*, const float*, float*,
                                     Conv2dActivation, float*);
template void forward_lattice<double>(const Conv2dShape&, const std::vector<const double*>&, const double*, const double*, double*,
                                      Conv2dActivation, double*);

}  // namespace mpf::cpu::conv2d_detail
