// conv2d entry points: shape arithmetic, the per-shape algorithm choice, the bias gradient.
#include "cpu/conv2d.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <type_traits>

#include "common/cpu_features.h"
#include "common/thread_pool.h"
#include "cpu/conv2d_impl.h"
#include "cpu/inference_precision.h"
#include "cpu/squeeze_excite.h"
#include "cpu/unary.h"

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

namespace {

Conv2dAlgoMode mode_from_env() {
  Conv2dAlgoMode m = Conv2dAlgoMode::Auto;
  if (const char* env = std::getenv("MPFNET_CONV_ALGO")) parse_conv2d_algo_mode(env, &m);
  return m;
}

std::atomic<int>& mode_slot() {
  static std::atomic<int> m{int(mode_from_env())};
  return m;
}

// Winograd's transforms are paid per channel of the tensor whose patches it transforms (x in the
// forward and weight passes, gy in the data pass); with few such channels they cost more than the
// smaller GEMMs save. Measured at MPF-Net's shapes (native/tools/check_conv2d --bench, one thread):
//   head 3 -> 52, 48x48:    forward F(2x2) 68 vs GEMM 87 GFLOP/s, weight F(2x2) 14 vs GEMM 61
//   tail 52 -> 3, 192x192:  forward F(2x2) 48 vs GEMM 24, data F(4x4) 70 vs GEMM 79,
//                           weight F(2x2) 34 vs GEMM 15
// The forward pass takes F(2x2) even for the head: it is 0.01% of a training step, and one
// algorithm for every forward convolution keeps the rounding of the whole model uniform.
bool winograd_pays(const Conv2dShape& s, Conv2dPass pass) {
  switch (pass) {
    case Conv2dPass::Forward: return true;
    case Conv2dPass::BackwardData: return s.out_channels >= 16;
    case Conv2dPass::BackwardWeight: return s.total_in_channels() >= 16;
  }
  return false;
}

// The tile of the 'fp32' forward where F(8x8) does not pay (f8_pays, below). F(6x6) reads 64 input
// values per 36 outputs where F(4x4) reads 36 per 16 (21% less input per output), but its GEMMs run slower (a block's V and U overflow L2,
// docs/performance.md). While the input stays in the last-level cache between calls the GEMMs decide
// and F(4x4) is as fast or faster; once the input comes from memory the transforms decide. Measured
// in a x4 inference (profile-step.js, 2 threads, 2026-12-03): c1 (104 channels in) at 256^2 (27 MB)
// 618-692 -> 559-619 ms for its 80 calls (-10%), at 224^2 (21 MB) -7%; at 128^2 (6.8 MB) equal; c2
// (52 in) at 256^2 (13.6 MB) equal or 2% slower. Accuracy is not the question: on trained weights
// both are 133.6 dB from float64 (test/inference-precision.test.ts).
constexpr int64_t kF6InputBytes = int64_t(16) << 20;
bool input_leaves_cache(const Conv2dShape& s) {
  return s.batch * s.total_in_channels() * s.in_h * s.in_w * int64_t(sizeof(float)) >= kF6InputBytes;
}

// The tile of the bf16 forward. Rounding V and U to bf16 (2^-9 relative) is amplified by the
// transforms like float32's rounding is: F(4x4) ~300x (check_conv2d: 0.3 of the output's rms on
// random data), F(2x2) ~10x (2e-2). On the briefly trained x4 model (test/inference-precision.test.ts,
// 24^2 input, a 96^2 patch downscaled) bf16 F(4x4) is 53.3 dB from 'fp32', max error 2.6e-2 (6.5
// 8-bit steps; 54.4 dB, 6.6 steps on a 208^2 photo crop), bf16 F(2x2) 62.3 dB, max 3.1e-3 (measured
// while the last upsampling stage still ran here; upsample_tail now computes it in float32, and
// bf16 F(4x4) measures 60.3 dB, 1.3 steps; 61.5 dB, 2.3 steps on the crop). Speed
// (check_conv2d --bench, 2 threads, effective GFLOP/s, 2026-12-03): bf16 F(4x4) 1580-1680 for
// C52+52->52 at 128^2 and ~1280 at 256^2 against 'fp32' (F(4x4) float32) 1170-1200 and ~930; bf16
// F(2x2) runs no faster than 'fp32'. A 256^2 x4 inference: bf16 F(4x4) ~1020 ms, 'fp32' ~1240, bf16
// F(2x2) ~1370. So F(4x4) rather than F(2x2): of the two, the only bf16 tile faster than float32
// here, inside the 50 dB bound (docs/upscaling.md states both numbers).
//
// Where the input leaves the cache (input_leaves_cache, above: c1 at 256^2, 27 MB) bf16 takes
// F(6x6), whose transforms read 21% less input per output. Since the last stage computes in float32
// it rounds no more than F(4x4) there: on the 208^2 crop (c1's input 18 MB) 62.7 dB from 'fp32',
// worst 6.27e-3 (1.6 steps), against 62.7 dB and 6.58e-3 with F(4x4) (F(6x6) for c2 too: 60.8 dB,
// 1.17e-2; c2 in bf16 F(8x8): 48.5-48.6 dB, past the 50 dB bound). Before, with the last stage in
// bf16, the same F(6x6) measured 51.2 dB and 9.6 steps. Speed (2026-12-05, Zen 4, 2 threads): c1
// at 256^2 827-828 -> 869-880 effective GFLOP/s (check_conv2d --bench --selu), at 128^2 (6.8 MB)
// 971-1004 -> 828-878, c2 at 256^2 726-728 -> 715-718; a 256^2 x4 inference 1170 / 1197 / 1217 ->
// 1115 / 1125 / 1131 ms (medians of 5, three alternations; with c2 in F(6x6) too 1127-1137).
Conv2dAlgo bf16_algo(const Conv2dShape& s) {
  return input_leaves_cache(s) ? Conv2dAlgo::Winograd6Bf16 : Conv2dAlgo::Winograd4Bf16;
}

// F(8x8) takes the 'fp32' forward where its rows fill the staging's chunks (16 tiles with AVX-512,
// 8 with AVX2: 128 columns and more) and both channel counts are wide enough for the GEMMs to
// dominate. It spends 100 multiplications per 64 outputs (F(6x6) 64 per 36, F(4x4) 36 per 16), and
// its patch rows (10 floats every 8) transpose in 26 permutes (AVX-512) where F(6x6)'s take 56. Measured in x4 inferences
// (profile-step.js, 2 threads, alternating runs, 2026-12-04, Zen 4 host: docs/performance.md): at 256^2
// the native time 1576-1579 -> 1410-1465 ms (c1's 80 calls 879 -> 802-831 ms against F(6x6), c2's
// 509-515 -> 433-447 against F(4x4)); at 128^2 444-454 -> 408-416 ms. Where rows are shorter the
// chunks run part-empty and the larger transformed weights cost more per tile (check_conv2d
// --bench, 2 threads: C52 -> 52 at 48^2 336 -> 270-280 effective GFLOP/s, 3 -> 52 at 48^2 175 ->
// 48-54; at 128^2 553-579 -> 635-687). Accuracy: 127.9 dB from float64 on trained weights (F(6x6)
// 130.0, test/inference-precision.test.ts). AVX-512 and AVX2, whose staging networks make it pay
// (an 8-float tile step is one register load per tile, an 8x8 transpose the columns): with the
// portable staging, AVX2 measured anywhere from 5% slower to 40% faster in two rounds; with its
// network (2026-12-05, Zen 4 host, MPFNET_SIMD=avx2) check_conv2d's 'fp32' forwards ran 14-26%
// faster than F(4x4) / F(6x6) at 128^2 and 256^2, and x4 inferences at 128^2 480-537 -> 399-433
// ms, at 224^2 1472-1523 -> 1216-1233 (profile-step.js, native, three alternations). NEON keeps
// F(4x4) / F(6x6) (portable staging, not measured).
bool f8_pays(const Conv2dShape& s) {
  const Simd level = simd_level();
  return (level == Simd::AVX512 || level == Simd::AVX2) && s.out_w() >= 128 && s.total_in_channels() >= 16 && s.out_channels >= 16;
}

// Dilated convolutions on their sub-lattices (conv2d_lattice.cc) pay where each lattice is large
// enough for Winograd's tiles. Measured in x4 inferences (profile-step.js, 2 threads, MPFE's 52 ->
// 52 branches, on 2026-12-04 on the Zen 4 host, docs/performance.md): at 256^2, d = 3, 6, 9 took 17.3 +
// 17.8 + 17.4 ms as implicit GEMMs, 11.3 + 12.3 + 13.4 ms on lattices ('fp32'; 'bf16' 16.9 + 17.2 +
// 17.4 -> 10.1 + 11.5 + 12.6); at 128^2 d = 3 and 6 gained (4.7 -> 3.2, 4.5 -> 4.2 ms) and d = 9,
// whose lattices are 14 pixels wide, did not (4.5 -> 4.6). A lattice of 16 pixels and more, then.
bool lattice_pays(const Conv2dShape& s) {
  constexpr int64_t kMinSide = 16;
  return conv2d_detail::lattice_applies(s) && s.in_h / s.dilation_h >= kMinSide && s.in_w / s.dilation_w >= kMinSide &&
         s.total_in_channels() >= 16 && s.out_channels >= 16;
}

}  // namespace

Conv2dAlgoMode conv2d_algo_mode() { return Conv2dAlgoMode(mode_slot().load()); }
void set_conv2d_algo_mode(Conv2dAlgoMode m) { mode_slot().store(int(m)); }

const char* conv2d_algo_mode_name(Conv2dAlgoMode m) {
  switch (m) {
    case Conv2dAlgoMode::Auto: return "auto";
    case Conv2dAlgoMode::Gemm: return "gemm";
    case Conv2dAlgoMode::Winograd4: return "winograd";
    case Conv2dAlgoMode::Winograd2: return "winograd2";
    case Conv2dAlgoMode::Winograd6: return "winograd6";
    case Conv2dAlgoMode::Winograd8: return "winograd8";
    case Conv2dAlgoMode::Lattice: return "lattice";
    case Conv2dAlgoMode::Direct: return "direct";
  }
  return "?";
}

bool parse_conv2d_algo_mode(const char* name, Conv2dAlgoMode* out) {
  for (Conv2dAlgoMode m : {Conv2dAlgoMode::Auto, Conv2dAlgoMode::Gemm, Conv2dAlgoMode::Winograd4, Conv2dAlgoMode::Winograd2,
                           Conv2dAlgoMode::Winograd6, Conv2dAlgoMode::Winograd8, Conv2dAlgoMode::Lattice, Conv2dAlgoMode::Direct})
    if (!std::strcmp(name, conv2d_algo_mode_name(m))) {
      *out = m;
      return true;
    }
  return false;
}

// One place decides how each pass runs for a shape: new algorithms plug in here without
// touching callers.
Conv2dAlgo conv2d_algo(const Conv2dShape& s, Conv2dPass pass, bool float64) {
  const Conv2dAlgoMode mode = conv2d_algo_mode();
  const bool winograd_ok = conv2d_detail::winograd_applies(s);
  if (mode == Conv2dAlgoMode::Direct) return Conv2dAlgo::Direct;
  if (mode == Conv2dAlgoMode::Winograd4 && winograd_ok) return Conv2dAlgo::Winograd4;
  if (mode == Conv2dAlgoMode::Winograd2 && winograd_ok) return Conv2dAlgo::Winograd2;
  if (mode == Conv2dAlgoMode::Winograd6 && winograd_ok) return Conv2dAlgo::Winograd6;
  if (mode == Conv2dAlgoMode::Winograd8 && winograd_ok) return Conv2dAlgo::Winograd8;
  if (mode == Conv2dAlgoMode::Lattice && pass == Conv2dPass::Forward && conv2d_detail::lattice_applies(s)) return Conv2dAlgo::Lattice;
  if (float64) return Conv2dAlgo::Direct;
  if (mode == Conv2dAlgoMode::Auto && pass == Conv2dPass::Forward && inference_precision() != InferencePrecision::Strict &&
      lattice_pays(s))
    return Conv2dAlgo::Lattice;
  if (mode == Conv2dAlgoMode::Auto && winograd_ok && winograd_pays(s, pass)) {
    // Inference precisions (inference_precision.h; set per calling thread, forward pass only)
    // trade this rounding for speed, within bounds measured on trained weights
    // (test/inference-precision.test.ts): 'fp32' takes F(8x8) for planes of 128 columns and more,
    // else F(6x6) for inputs that leave the cache, else F(4x4) (output PSNR vs float64 >= 60 dB for
    // all three); 'bf16' Winograd with bf16 GEMMs (PSNR vs 'fp32' >= 50 dB), or 'fp32''s tile
    // without AVX512_BF16.
    const InferencePrecision ip = pass == Conv2dPass::Forward ? inference_precision() : InferencePrecision::Strict;
    if (ip == InferencePrecision::Bf16 && bf16_gemm_kernels()) return bf16_algo(s);
    if (ip != InferencePrecision::Strict)
      return f8_pays(s) ? Conv2dAlgo::Winograd8 : input_leaves_cache(s) ? Conv2dAlgo::Winograd6 : Conv2dAlgo::Winograd4;
    // Training (and 'strict'): F(4x4, 3x3) does 1.8x fewer multiplications than F(2x2, 3x3); at
    // its points (0, 1, -1, 1/2, -2, inf; conv2d_winograd_math.h) the x4 model's float32 output
    // lies as far from float64 as with F(2x2) (error norm 6.0-6.6e-7 either way, three seeds). The
    // PyTorch golden test judges 256 samples nearly elementwise (1e-4; test/mpfnet-golden.test.ts),
    // each against max(|sample|, rms / 100): a sample near zero amplifies the rounding up to 100x,
    // so its worst sample is a draw from the same spread whichever tile rounds (F(2x2) everywhere:
    // 2.0e-5 to 5.7e-5 across instruction sets and models). With F(4x4) for the convolutions that
    // keep or narrow their channels (MPF-Net's c1, 104 -> 52, and c2, 52 -> 52: the blocks') the
    // worst is 8.6e-5, on the x4 model with AVX-512 and AVX2 (scalar: 6.8e-5, on x2); with every
    // convolution in F(4x4) it failed (1.3-1.4e-4), so the widening ones (head, upsampler) and
    // those that write an image (4 output channels or fewer, whose rounding reaches the output
    // unaveraged) keep F(2x2). The data and weight passes take F(4x4) (the golden gradients within
    // 1.6e-5 of PyTorch's, the weights after 3 Adam steps within 2.3e-5, bound 1e-4). Numbers:
    // docs/performance.md, "Training's forward in F(4x4)".
    if (pass != Conv2dPass::Forward) return Conv2dAlgo::Winograd4;
    return s.total_in_channels() >= s.out_channels && s.out_channels > 4 ? Conv2dAlgo::Winograd4 : Conv2dAlgo::Winograd2;
  }
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
    case Conv2dAlgo::Winograd4: return "winograd-f4x4";
    case Conv2dAlgo::Winograd2: return "winograd-f2x2";
    case Conv2dAlgo::Winograd6: return "winograd-f6x6";
    case Conv2dAlgo::Winograd8: return "winograd-f8x8";
    case Conv2dAlgo::Winograd4Bf16: return "winograd-f4x4-bf16";
    case Conv2dAlgo::Winograd6Bf16: return "winograd-f6x6-bf16";
    case Conv2dAlgo::Lattice: return "lattice";
  }
  return "?";
}

const char* conv2d_activation_name(Conv2dActivation a) {
  switch (a) {
    case Conv2dActivation::None: return "none";
    case Conv2dActivation::Selu: return "selu";
  }
  return "?";
}

bool parse_conv2d_activation(const char* name, Conv2dActivation* out) {
  for (Conv2dActivation a : {Conv2dActivation::None, Conv2dActivation::Selu})
    if (!std::strcmp(name, conv2d_activation_name(a))) {
      *out = a;
      return true;
    }
  return false;
}

template <typename T>
void conv2d_activation_apply(Conv2dActivation a, T* y, int64_t n) {
  if (a == Conv2dActivation::Selu) selu_serial(y, y, n);
}
template void conv2d_activation_apply<float>(Conv2dActivation, float*, int64_t);
template void conv2d_activation_apply<double>(Conv2dActivation, double*, int64_t);

template <typename T>
void conv2d_forward(const Conv2dShape& s, const std::vector<const T*>& xs, const T* w, const T* b, T* y, Conv2dActivation act,
                    T* channel_means) {
  using namespace conv2d_detail;
  switch (conv2d_algo(s, Conv2dPass::Forward, std::is_same_v<T, double>)) {
    case Conv2dAlgo::Winograd4: return forward_winograd(s, xs, w, b, y, 4, act, false, channel_means);
    case Conv2dAlgo::Winograd2: return forward_winograd(s, xs, w, b, y, 2, act, false, channel_means);
    case Conv2dAlgo::Winograd6: return forward_winograd(s, xs, w, b, y, 6, act, false, channel_means);
    case Conv2dAlgo::Winograd8: return forward_winograd(s, xs, w, b, y, 8, act, false, channel_means);
    case Conv2dAlgo::Winograd4Bf16: return forward_winograd(s, xs, w, b, y, 4, act, true, channel_means);
    case Conv2dAlgo::Winograd6Bf16: return forward_winograd(s, xs, w, b, y, 6, act, true, channel_means);
    case Conv2dAlgo::Lattice: return forward_lattice(s, xs, w, b, y, act, channel_means);
    case Conv2dAlgo::ImplicitGemm:
      if constexpr (std::is_same_v<T, float>) {
        forward_implicit_gemm(s, xs, w, b, y, act);
        break;
      }
      [[fallthrough]];
    default: conv2d_forward_direct(s, xs, w, b, y, act);
  }
  // The other algorithms: squeeze-excitation's own pooling pass over y.
  if (channel_means) se_pool(y, channel_means, s.batch, s.out_channels, s.out_h() * s.out_w());
}

template <typename T>
void conv2d_backward_data(const Conv2dShape& s, const T* w, const T* gy, const std::vector<T*>& gxs) {
  using namespace conv2d_detail;
  switch (conv2d_algo(s, Conv2dPass::BackwardData, std::is_same_v<T, double>)) {
    case Conv2dAlgo::Winograd4: return backward_data_winograd(s, w, gy, gxs, 4);
    case Conv2dAlgo::Winograd2: return backward_data_winograd(s, w, gy, gxs, 2);
    case Conv2dAlgo::Winograd6: return backward_data_winograd(s, w, gy, gxs, 6);
    case Conv2dAlgo::Winograd8: return backward_data_winograd(s, w, gy, gxs, 8);
    case Conv2dAlgo::ImplicitGemm:
      if constexpr (std::is_same_v<T, float>) return backward_data_implicit_gemm(s, w, gy, gxs);
      return conv2d_backward_data_direct(s, w, gy, gxs);
    case Conv2dAlgo::GemmCol2im:
      if constexpr (std::is_same_v<T, float>) return backward_data_gemm_col2im(s, w, gy, gxs);
      [[fallthrough]];
    default: return conv2d_backward_data_direct(s, w, gy, gxs);
  }
}

template <typename T>
void conv2d_backward_weight(const Conv2dShape& s, const std::vector<const T*>& xs, const T* gy, T* gw, T* gb) {
  using namespace conv2d_detail;
  switch (conv2d_algo(s, Conv2dPass::BackwardWeight, std::is_same_v<T, double>)) {
    case Conv2dAlgo::Winograd4: return backward_weight_winograd(s, xs, gy, gw, gb, 4);
    case Conv2dAlgo::Winograd2: return backward_weight_winograd(s, xs, gy, gw, gb, 2);
    case Conv2dAlgo::Winograd6: return backward_weight_winograd(s, xs, gy, gw, gb, 6);
    case Conv2dAlgo::Winograd8: return backward_weight_winograd(s, xs, gy, gw, gb, 8);
    case Conv2dAlgo::ImplicitGemm:
      if constexpr (std::is_same_v<T, float>) {
        backward_weight_implicit_gemm(s, xs, gy, gw);
        break;
      }
      [[fallthrough]];
    default: conv2d_backward_weight_direct(s, xs, gy, gw);
  }
  if (gb) conv2d_backward_bias(s, gy, gb);
}

#define MPF_CONV2D(T)                                                                                           \
  template void conv2d_forward<T>(const Conv2dShape&, const std::vector<const T*>&, const T*, const T*, T*, Conv2dActivation, T*); \
  template void conv2d_backward_data<T>(const Conv2dShape&, const T*, const T*, const std::vector<T*>&);      \
  template void conv2d_backward_weight<T>(const Conv2dShape&, const std::vector<const T*>&, const T*, T*, T*);
MPF_CONV2D(float)
MPF_CONV2D(double)
#undef MPF_CONV2D

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
