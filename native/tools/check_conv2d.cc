// Standalone conv2d / GEMM kernel check, llm.c style: no Node, links the kernels library only.
// For every conv2d algorithm mode (auto, gemm, winograd, winograd2, winograd6, winograd8, lattice; only the one --algo names, if
// given) and every SIMD level the CPU has, runs the float paths (forward, backward-data,
// backward-weight, backward-bias, and gemm with every transpose) on assorted shapes and compares
// them with the float64 direct loops; then, with --bench, times the float paths at MPF-Net's shapes
// (--only: those whose description contains the string).
//
//   npx cmake-js configure -O build-x --CDMPF_BUILD_CHECKS=ON && npx cmake-js build -O build-x
//   build-x/check_conv2d [--bench] [--gemm] [--transforms] [--reps N] [--cpu-time] [--cold] [--no-check] [--algo auto|gemm|winograd|winograd2|winograd6|winograd8|lattice]
//     [--only 'N1 C52+52->52 48x48'] [--pass forward|data|weight] [--precision strict|fp32|bf16] [--selu]
// Also checks the bf16 GEMM kernels (where the CPU has AVX512_BF16) and the forward pass under
// each inference precision; --precision sets the one the bench's forward column runs under, and
// --selu fuses SELU into it (as MPF-Net's c1 runs).
//   (or any CMake build of the repository with -DMPF_BUILD_CHECKS=ON)
// --cpu-time measures process CPU time (meaningful with MPFNET_NUM_THREADS=1 on a busy machine).
// --cold reads 64 MB before every timed run, so each starts from memory as in a training step
// (whose maps do not fit the caches), not from the previous run's caches.
// --transforms times one block's input and output transforms alone (one thread, F(2x2), F(4x4),
// F(6x6) at the CPB's channel counts), in the driver's layout and with the unpadded per-point stride.
// Exit status 0 when every comparison is within tolerance.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "common/cpu_features.h"
#include "common/thread_pool.h"
#include "cpu/conv2d.h"
#include "cpu/conv2d_winograd_tiles.h"
#include "cpu/gemm.h"
#include "cpu/inference_precision.h"
#include "cpu/gemm_kernels.h"
#include "cpu/peak.h"

using namespace mpf;
using cpu::Conv2dShape;

namespace {

std::mt19937_64 rng(1234);

std::vector<double> randn(size_t n) {
  std::normal_distribution<double> d;
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}
std::vector<float> to_f(const std::vector<double>& v) { return {v.begin(), v.end()}; }

// max |a - b| / max(|b|, floor) with floor = the root mean square of b: a float32 sum of K terms
// carries an absolute rounding error that scales with its partial sums (~ the output's typical
// size), not with the one element, so an element that happens to cancel to near zero must not
// count as a large relative error.
double rel_err(const std::vector<float>& a, const std::vector<double>& b) {
  double ss = 0;
  for (double x : b) ss += x * x;
  const double floor = std::max(1e-30, std::sqrt(ss / double(b.size())));
  double worst = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    const double e = std::fabs(double(a[i]) - b[i]) / std::max(std::fabs(b[i]), floor);
    if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : e;
  }
  return worst;
}

Conv2dShape shape(int64_t n, std::vector<int64_t> cin, int64_t cout, int64_t h, int64_t w, int64_t k, int64_t s, int64_t p, int64_t d) {
  Conv2dShape sh;
  sh.batch = n;
  sh.in_channels = std::move(cin);
  sh.out_channels = cout;
  sh.in_h = h;
  sh.in_w = w;
  sh.kernel_h = sh.kernel_w = k;
  sh.stride_h = sh.stride_w = s;
  sh.pad_h = sh.pad_w = p;
  sh.dilation_h = sh.dilation_w = d;
  return sh;
}

std::string describe(const Conv2dShape& s) {
  std::string parts;
  for (size_t j = 0; j < s.in_channels.size(); ++j) parts += (j ? "+" : "") + std::to_string(s.in_channels[j]);
  char buf[200];
  std::snprintf(buf, sizeof buf, "N%lld C%s->%lld %lldx%lld k%lldx%lld s%lld p%lld d%lld", (long long)s.batch, parts.c_str(),
                (long long)s.out_channels, (long long)s.in_h, (long long)s.in_w, (long long)s.kernel_h, (long long)s.kernel_w,
                (long long)s.stride_h, (long long)s.pad_h, (long long)s.dilation_h);
  return buf;
}

struct ConvData {
  std::vector<std::vector<double>> xs;
  std::vector<double> w, b, gy;
};

ConvData make_data(const Conv2dShape& s) {
  ConvData d;
  for (int64_t c : s.in_channels) d.xs.push_back(randn(size_t(s.batch * c * s.in_h * s.in_w)));
  d.w = randn(size_t(s.out_channels * s.total_in_channels() * s.kernel_h * s.kernel_w));
  d.b = randn(size_t(s.out_channels));
  d.gy = randn(size_t(s.batch * s.out_channels * s.out_h() * s.out_w()));
  return d;
}

template <typename T>
std::vector<const T*> cptrs(const std::vector<std::vector<T>>& v) {
  std::vector<const T*> p;
  for (auto& x : v) p.push_back(x.data());
  return p;
}
template <typename T>
std::vector<T*> mptrs(std::vector<std::vector<T>>& v) {
  std::vector<T*> p;
  for (auto& x : v) p.push_back(x.data());
  return p;
}

bool check_conv(const Conv2dShape& s, double tol) {
  const ConvData d = make_data(s);
  // Reference in float64.
  std::vector<double> y(d.gy.size()), gw(d.w.size()), gb(d.b.size());
  std::vector<std::vector<double>> gxs;
  for (auto& x : d.xs) gxs.emplace_back(x.size());
  cpu::conv2d_forward_direct<double>(s, cptrs(d.xs), d.w.data(), d.b.data(), y.data());
  cpu::conv2d_backward_data_direct<double>(s, d.w.data(), d.gy.data(), mptrs(gxs));
  cpu::conv2d_backward_weight_direct<double>(s, cptrs(d.xs), d.gy.data(), gw.data());
  cpu::conv2d_backward_bias<double>(s, d.gy.data(), gb.data());
  // The fused activation (cpu/conv2d.h): selu(conv) in float64 against each float algorithm's.
  std::vector<double> ya(y.size());
  cpu::conv2d_forward_direct<double>(s, cptrs(d.xs), d.w.data(), d.b.data(), ya.data(), cpu::Conv2dActivation::Selu);

  std::vector<std::vector<float>> xf;
  for (auto& x : d.xs) xf.push_back(to_f(x));
  const auto wf = to_f(d.w), bf = to_f(d.b), gyf = to_f(d.gy);
  bool ok = true;
  for (int lv = 0; lv <= int(simd_level()); ++lv) {
    const Simd saved = simd_level();
    set_simd_level(Simd(lv));
    std::vector<float> yf(y.size(), NAN), yaf(y.size(), NAN), gwf(gw.size(), NAN), gbf(gb.size(), NAN);
    std::vector<std::vector<float>> gxf;
    for (auto& x : d.xs) gxf.emplace_back(x.size(), NAN);
    cpu::conv2d_forward<float>(s, cptrs(xf), wf.data(), bf.data(), yf.data());
    cpu::conv2d_forward<float>(s, cptrs(xf), wf.data(), bf.data(), yaf.data(), cpu::Conv2dActivation::Selu);
    cpu::conv2d_backward_data<float>(s, wf.data(), gyf.data(), mptrs(gxf));
    // The bias gradient both ways: with the weight gradient (Winograd: from its staged gy tiles)
    // and alone.
    std::vector<float> gbf_alone(gb.size(), NAN);
    cpu::conv2d_backward_weight<float>(s, cptrs(xf), gyf.data(), gwf.data(), gbf.data());
    cpu::conv2d_backward_bias<float>(s, gyf.data(), gbf_alone.data());
    set_simd_level(saved);
    double ed = 0;
    for (size_t j = 0; j < gxs.size(); ++j) ed = std::max(ed, rel_err(gxf[j], gxs[j]));
    const double ef = rel_err(yf, y), ea = rel_err(yaf, ya), ew = std::max({rel_err(gwf, gw), rel_err(gbf, gb), rel_err(gbf_alone, gb)});
    const bool pass = std::max({ef, ea, ed, ew}) <= tol;
    ok = ok && pass;
    std::printf("%-4s %-8s %-9s %-44s rel err fwd %.1e +selu %.1e data %.1e weight %.1e  [%s %s %s]\n", pass ? "ok" : "FAIL",
                simd_name(Simd(lv)), cpu::conv2d_algo_mode_name(cpu::conv2d_algo_mode()), describe(s).c_str(), ef, ea, ed, ew,
                cpu::conv2d_algo_name(cpu::conv2d_algo(s, cpu::Conv2dPass::Forward)),
                cpu::conv2d_algo_name(cpu::conv2d_algo(s, cpu::Conv2dPass::BackwardData)),
                cpu::conv2d_algo_name(cpu::conv2d_algo(s, cpu::Conv2dPass::BackwardWeight)));
  }
  return ok;
}

bool check_gemm(double tol) {
  bool ok = true;
  std::uniform_int_distribution<int> dim(1, 300);
  for (int lv = 0; lv <= int(simd_level()); ++lv) {
    const Simd saved = simd_level();
    double worst = 0;
    for (int t = 0; t < 60; ++t) {
      const int M = dim(rng), N = dim(rng), K = dim(rng);
      const bool ta = t & 1, tb = t & 2, acc = t & 4, brow = t & 8, bcol = t & 16;
      auto A = randn(size_t(M * K)), B = randn(size_t(K * N)), C = randn(size_t(M * N)), br = randn(size_t(M)), bc = randn(size_t(N));
      std::vector<float> Af = to_f(A), Bf = to_f(B), Cf = to_f(C), brf = to_f(br), bcf = to_f(bc);
      cpu::gemm<double>(ta, tb, M, N, K, A.data(), ta ? M : K, B.data(), tb ? K : N, C.data(), N, acc, brow ? br.data() : nullptr,
                        bcol ? bc.data() : nullptr);
      set_simd_level(Simd(lv));
      cpu::gemm<float>(ta, tb, M, N, K, Af.data(), ta ? M : K, Bf.data(), tb ? K : N, Cf.data(), N, acc, brow ? brf.data() : nullptr,
                       bcol ? bcf.data() : nullptr);
      set_simd_level(saved);
      worst = std::max(worst, rel_err(Cf, C));
    }
    const bool pass = worst <= tol;
    ok = ok && pass;
    std::printf("%-4s %-8s gemm, 60 random shapes and transposes          max rel err %.2e\n", pass ? "ok" : "FAIL",
                simd_name(Simd(lv)), worst);
  }
  return ok;
}

// bf16 value of x rounded to nearest even, as a float (NaN never occurs here): the reference for
// the packers' vcvtne2ps2bf16.
double bf16_round(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
  float r;
  std::memcpy(&r, &u, 4);
  return double(r);
}

// The bf16 micro-kernel and packers (inference precision bf16) against float64 sums of the same
// bf16-rounded operands, every element of every tile height, depth (odd ones pad a zero) and
// column count: only the float32 accumulation may differ, by at most (depth + 2) * 2^-24 times
// the sum of the products' sizes.
bool check_bf16_gemm() {
  const cpu::bf16::Kernels* k = cpu::bf16_gemm_kernels();
  if (!k) {
    std::printf("skip bf16 gemm: no AVX512_BF16 (or the SIMD level is below avx512)\n");
    return true;
  }
  bool ok = true;
  double worst = 0;
  std::uniform_int_distribution<int> cols(1, k->nr);
  for (int mr = 1; mr <= k->mr_max; ++mr)
    for (int64_t kc : {1, 2, 7, 64, 255}) {
      const int nr = k->nr, n_valid = cols(rng);
      const bool load_c = (mr + kc) & 1;
      const auto a = to_f(randn(size_t(kc * mr))), b = to_f(randn(size_t(kc * nr))), c0 = to_f(randn(size_t(mr * nr)));
      const int64_t kp = (kc + 1) / 2;
      std::vector<uint32_t> ap(size_t(kp * mr)), bp(size_t(kp * nr));
      k->pack_a(a.data(), mr, kc, ap.data());
      k->pack_b(b.data(), kc, bp.data());
      std::vector<float> c = c0;
      k->ukr[mr](kp, ap.data(), bp.data(), c.data(), nr, n_valid, load_c);
      for (int i = 0; i < mr; ++i)
        for (int j = 0; j < nr; ++j) {
          double ref = load_c ? double(c0[size_t(i * nr + j)]) : 0.0, size = std::fabs(ref);
          for (int64_t kk = 0; kk < kc; ++kk) {
            const double prod = bf16_round(a[size_t(kk * mr + i)]) * bf16_round(b[size_t(kk * nr + j)]);
            ref += prod;
            size += std::fabs(prod);
          }
          const double got = c[size_t(i * nr + j)];
          if (j >= n_valid) {  // columns past n_valid are left alone
            if (got != c0[size_t(i * nr + j)]) ok = false;
            continue;
          }
          const double e = std::fabs(got - ref) / (double(kc + 2) * std::ldexp(1.0, -24) * std::max(size, 1e-30));
          if (!(e <= 1)) ok = false;
          worst = std::max(worst, std::isnan(e) ? INFINITY : e);
        }
    }
  std::printf("%-4s bf16 gemm: tiles 1..%d rows x %d, depths 1..255: worst error %.2f of the bound\n", ok ? "ok" : "FAIL", k->mr_max,
              k->nr, worst);
  return ok;
}

// The forward pass under each inference precision on MPF-Net-like shapes, against the float64
// direct loops: 'fp32' (F(4x4) at these sizes, all under 16 MB of input; the dilated shape on its
// sub-lattices, 16 x 16 pixels each, with F(4x4) inside; F(8x8) on the 130-column one) within the
// float32 tolerance of its tile, 'bf16' (F(4x4) with bf16 operands) within bf16's 2^-9 relative rounding
// times F(4x4)'s transform gain (~300: 0.20-0.43 of the output's rms at worst on random data, bound
// 0.6; test/inference-precision.test.ts bounds the whole model on trained weights: PSNR vs 'fp32'
// >= 50 dB, and there also bf16 F(6x6), which it takes from 16 MB of input).
bool check_precisions() {
  bool ok = true;
  for (cpu::InferencePrecision ip : {cpu::InferencePrecision::Fp32, cpu::InferencePrecision::Bf16})
    for (const Conv2dShape& s : {shape(1, {52}, 52, 30, 34, 3, 1, 1, 1), shape(2, {3}, 52, 21, 19, 3, 1, 1, 1),
                                 shape(1, {52, 52}, 52, 17, 23, 3, 1, 1, 1), shape(1, {52}, 3, 40, 40, 3, 1, 1, 1),
                                 shape(1, {52}, 52, 50, 49, 3, 1, 3, 3), shape(1, {52, 52}, 52, 18, 130, 3, 1, 1, 1)}) {
      const ConvData d = make_data(s);
      std::vector<double> y(d.gy.size()), ya(d.gy.size());
      cpu::conv2d_forward_direct<double>(s, cptrs(d.xs), d.w.data(), d.b.data(), y.data());
      cpu::conv2d_forward_direct<double>(s, cptrs(d.xs), d.w.data(), d.b.data(), ya.data(), cpu::Conv2dActivation::Selu);
      std::vector<std::vector<float>> xf;
      for (auto& x : d.xs) xf.push_back(to_f(x));
      const auto wf = to_f(d.w), bf = to_f(d.b);
      std::vector<float> yf(y.size(), NAN), yaf(y.size(), NAN);
      const cpu::InferencePrecision before = cpu::inference_precision();
      cpu::set_inference_precision(ip);
      const cpu::Conv2dAlgo algo = cpu::conv2d_algo(s, cpu::Conv2dPass::Forward);
      cpu::conv2d_forward<float>(s, cptrs(xf), wf.data(), bf.data(), yf.data());
      // With SELU fused: the inference precisions' short exp (simd::UnaryOps::selu_inference).
      cpu::conv2d_forward<float>(s, cptrs(xf), wf.data(), bf.data(), yaf.data(), cpu::Conv2dActivation::Selu);
      cpu::set_inference_precision(before);
      // 'fp32' takes F(8x8) on planes 128 columns wide (the last shape), which rounds ~10x more than
      // F(4x4) and F(6x6) on random data (on trained weights all three are >= 128 dB from float64).
      const double e = std::max(rel_err(yf, y), rel_err(yaf, ya)), tol = ip == cpu::InferencePrecision::Bf16 && cpu::bf16_gemm_kernels() ? 6e-1
                                             : algo == cpu::Conv2dAlgo::Winograd8                             ? 1e-3
                                                                                                              : 1e-4;
      ok = ok && e <= tol;
      std::printf("%-4s precision %-6s %-44s rel err fwd %.1e +selu %.1e  [%s]\n", e <= tol ? "ok" : "FAIL", cpu::inference_precision_name(ip),
                  describe(s).c_str(), rel_err(yf, y), rel_err(yaf, ya), cpu::conv2d_algo_name(algo));
    }
  return ok;
}

// With --cpu-time: process CPU time instead of wall time. On a machine shared with other jobs a
// single-threaded run then measures the work, not the waits for a core (threads = 1 only).
bool g_cpu_time = false;
bool g_skip_check = false;
cpu::Conv2dActivation g_bench_act = cpu::Conv2dActivation::None;  // --selu: the forward column with SELU fused (as c1 runs)
bool g_all_algos = true;  // check every algorithm mode (unless --algo picks one)
const char* g_pass = nullptr;  // --pass forward|data|weight: time only that pass (others print 0)
const char* g_only = nullptr;  // --only: bench the shapes whose description contains this
double now_s() {
  if (g_cpu_time) {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool g_cold = false;  // --cold: evict the caches (read 64 MB) before every timed run
void evict_caches() {
  // Reads, not writes: dirty lines would be written back during the timed run.
  static const std::vector<float> junk(size_t(16) << 20, 1.0f);
  static volatile float sink = 0;
  float s = 0;
  for (size_t i = 0; i < junk.size(); i += 16) s += junk[i];
  sink = sink + s;
}

double seconds_min(int reps, const std::function<void()>& f) {
  f();
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    if (g_cold) evict_caches();
    const double t0 = now_s();
    f();
    best = std::min(best, now_s() - t0);
  }
  return best;
}

void bench(int reps) {
  std::printf("\nthreads %d, simd %s, algo %s, precision %s, min of %d runs; GFLOP/s = 2 * MACs (of the direct sum) / time\n",
              num_threads(), simd_name(simd_level()), cpu::conv2d_algo_mode_name(cpu::conv2d_algo_mode()),
              cpu::inference_precision_name(cpu::inference_precision()), reps);
  std::printf("%-44s %10s %10s %10s\n", "shape", "forward", "bwd-data", "bwd-weight");
  std::vector<Conv2dShape> shapes;
  for (int64_t n : {1, 4, 8})
    for (int64_t hw : {48, 128})
      for (int64_t d : {1, 3, 6, 9}) shapes.push_back(shape(n, {52}, 52, hw, hw, 3, 1, d, d));
  for (int64_t n : {1, 4, 8})
    for (int64_t hw : {48, 128}) {
      shapes.push_back(shape(n, {52, 52, 52, 52, 52}, 52, hw, hw, 1, 1, 0, 1));  // fuse
      shapes.push_back(shape(n, {52, 52}, 52, hw, hw, 3, 1, 1, 1));              // CPB c1
    }
  // The CPB convolutions of a 256x256 inference (the onnxruntime comparison).
  shapes.push_back(shape(1, {52}, 52, 256, 256, 3, 1, 1, 1));
  shapes.push_back(shape(1, {52, 52}, 52, 256, 256, 3, 1, 1, 1));
  for (int64_t n : {1, 4}) {
    shapes.push_back(shape(n, {3}, 52, 48, 48, 3, 1, 1, 1));     // head
    shapes.push_back(shape(n, {52}, 208, 48, 48, 3, 1, 1, 1));   // upsampler, first conv
    shapes.push_back(shape(n, {52}, 208, 96, 96, 3, 1, 1, 1));   // upsampler, second conv
    shapes.push_back(shape(n, {52}, 3, 192, 192, 3, 1, 1, 1));   // tail
  }
  for (const Conv2dShape& s : shapes) {
    if (g_only && !std::strstr(describe(s).c_str(), g_only)) continue;
    std::vector<std::vector<float>> xs;
    for (int64_t c : s.in_channels) xs.push_back(to_f(randn(size_t(s.batch * c * s.in_h * s.in_w))));
    const auto w = to_f(randn(size_t(s.out_channels * s.total_in_channels() * s.kernel_h * s.kernel_w)));
    const auto b = to_f(randn(size_t(s.out_channels)));
    std::vector<float> y(size_t(s.batch * s.out_channels * s.out_h() * s.out_w())), gw(w.size());
    std::vector<std::vector<float>> gxs;
    for (auto& x : xs) gxs.emplace_back(x.size());
    const double flops = 2 * s.macs();
    auto timed = [&](const char* pass, const std::function<void()>& f) {
      return !g_pass || !std::strcmp(g_pass, pass) ? seconds_min(reps, f) : INFINITY;
    };
    const double tf = timed("forward", [&] { cpu::conv2d_forward<float>(s, cptrs(xs), w.data(), b.data(), y.data(), g_bench_act); });
    const double td = timed("data", [&] { cpu::conv2d_backward_data<float>(s, w.data(), y.data(), mptrs(gxs)); });
    const double tw = timed("weight", [&] { cpu::conv2d_backward_weight<float>(s, cptrs(xs), y.data(), gw.data()); });
    std::printf("%-44s %10.1f %10.1f %10.1f\n", describe(s).c_str(), flops / tf / 1e9, flops / td / 1e9, flops / tw / 1e9);
  }
}


// --transforms: one block's input transform (every channel staged, transformed and written as the
// GEMM's V) and output transform (every output channel's products back to pixels, with and without
// SELU), alone on one thread, the block's data staying in L2/L3 across runs: the cost of the
// transforms themselves, which the --bench shapes hide among GEMMs and memory traffic. Per 16-tile
// chunk and channel, in the driver's layout (winograd::point_stride) and unpadded.
void bench_transforms(int reps) {
  namespace wg = cpu::winograd;
  const wg::TileKernels<float>* k = &wg::tile_kernels_portable_f32();
#if defined(MPF_X86)
  if (simd_level() == Simd::AVX512) k = &wg::tile_kernels_avx512();
  else if (simd_level() == Simd::AVX2) k = &wg::tile_kernels_avx2();
#endif
  const int nr = cpu::gemm_detail::kernels_for(simd_level()).nr;
  const int64_t h = 64, w = 256;  // planes of 256 columns, as at 256^2
  struct Case { int m; int64_t channels, tiles; };
  // One line of the table: `run(seg, lanes, stride)` transforms the whole block once with the
  // per-point stride given (sizing its buffers on seconds_min's untimed first call); timed with the
  // driver's stride and the natural one, ns per chunk and channel.
  const auto line = [&](const Case& c, const char* what, auto&& run) {
    const int a = c.m + 2, points = a * a;
    const int64_t lanes = (c.tiles + nr - 1) / nr * nr, natural = c.channels * lanes;
    const wg::Seg sg{0, 2, 0, c.tiles, 0};  // tile row 2 from column 0: a block inside the plane
    double ns[2];
    for (int padded = 0; padded < 2; ++padded) {
      const int64_t stride = padded ? wg::point_stride(natural, lanes, points, 4) : natural;
      const double t = seconds_min(reps, [&] { run(sg, lanes, stride); });
      ns[padded] = t * 1e9 / double(c.channels) / double((c.tiles + 15) / 16);
    }
    char name[64];
    std::snprintf(name, sizeof name, "F(%dx%d), %ld %s, %ld tiles", c.m, c.m, long(c.channels), what, long(c.tiles));
    std::printf("%-40s %14.1f %14.1f\n", name, ns[1], ns[0]);
  };

  std::printf("\nWinograd transforms of one block, one thread, simd %s, min of %d runs: ns per 16-tile chunk and channel\n",
              simd_name(simd_level()), reps);
  std::printf("%-40s %14s %14s\n", "input transform", "driver layout", "unpadded");
  for (const Case c : {Case{2, 104, 32}, Case{4, 104, 32}, Case{4, 52, 64}, Case{6, 104, 32}, Case{6, 52, 32}, Case{8, 104, 32}, Case{8, 52, 32}}) {
    const std::vector<float> in = to_f(randn(size_t(c.channels * h * w)));
    std::vector<float> stage(size_t((c.m + 2) * (c.m + 2) * (c.tiles + nr)));
    std::vector<float> v;
    line(c, "channels", [&](const wg::Seg& sg, int64_t lanes, int64_t stride) {
      v.resize(size_t((c.m + 2) * (c.m + 2) * stride));
      for (int64_t ch = 0; ch < c.channels; ++ch) {
        const float* plane = in.data() + ch * h * w;
        const wg::InputJob<float> job{&sg, 1, c.tiles, lanes, plane, ch + 1 < c.channels ? plane + h * w : nullptr, c.channels * h * w,
                                      h, w, -1, -1, stage.data(), lanes, v.data() + ch * nr, stride, c.channels * nr, nr};
        k->input[wg::tile_index(c.m)](job);
      }
    });
  }
  std::printf("%-40s %14s %14s\n", "output transform", "driver layout", "unpadded");
  for (const Case c : {Case{2, 52, 32}, Case{4, 52, 32}, Case{4, 52, 64}, Case{6, 52, 32}, Case{8, 52, 32}})
    for (const int kind : {0, 1, 2}) {  // no activation, SELU, SELU with the inference precisions' short exp
      const cpu::Conv2dActivation act = kind ? cpu::Conv2dActivation::Selu : cpu::Conv2dActivation::None;
      std::vector<float> out(size_t(c.channels * h * w)), stage(size_t(c.m * c.m * (c.tiles + nr)));
      std::vector<float> products;
      const std::string what = std::string("rows (") + cpu::conv2d_activation_name(act) + (kind == 2 ? ", short exp)" : ")");
      line(c, what.c_str(), [&](const wg::Seg& sg, int64_t lanes, int64_t stride) {
        if (products.size() != size_t((c.m + 2) * (c.m + 2) * stride)) products = to_f(randn(size_t((c.m + 2) * (c.m + 2) * stride)));
        for (int64_t r = 0; r < c.channels; ++r) {
          const wg::OutputJob<float> job{&sg, 1, lanes, products.data() + r * lanes, stride, 0.1f, stage.data(), lanes,
                                         out.data() + r * h * w, c.channels * h * w, h, w, act, nullptr, nullptr, kind == 2};
          k->output[wg::tile_index(c.m)](job);
        }
      });
    }
}

// --gemm: SGEMM timings at the shapes issue 15 tracks, single numbers per line (GFLOP/s = 2 MNK /
// time, median of --reps runs; compare with peakGflops per thread):
//  - the bare micro-kernel (tallest tile, kc = 256) on packed data, one B panel reused (L1) and
//    a sweep over 8 panels (B from L2, as the driver runs it),
//  - gemm() on square 256 and 1024 matrices (packing, blocking and threading included),
//  - the Winograd per-point GEMMs of MPF-Net's convolutions: per transform point, U (52 x K,
//    packed in row tiles) times V (K x T, packed in panels), as run_conv calls the micro-kernels.
double g_last_min = 0;  // fastest run of the last seconds_median
double seconds_median(int reps, const std::function<void()>& f) {
  f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_s();
    f();
    t.push_back(now_s() - t0);
  }
  std::sort(t.begin(), t.end());
  g_last_min = t[0];
  return t[t.size() / 2];
}

void bench_gemm(int reps) {
  const auto& kern = cpu::gemm_detail::kernels_for(simd_level());
  const int mr = kern.mr_max, nr = kern.nr;
  std::printf("\ngemm: threads %d, simd %s (kernels %s, %d x %d), median of %d runs, GFLOP/s\n", num_threads(),
              simd_name(simd_level()), kern.name, mr, nr, reps);
  auto filt = [](const char* d) { return !g_only || std::strstr(d, g_only); };
  {
    // The FMA peak of one thread under the same clock (peak.cc's loop of this SIMD level).
    float (*loop)(int64_t, double*) = &cpu::peak_fp32_portable;
#if defined(MPF_X86)
    if (simd_level() == Simd::AVX512) loop = &cpu::peak_fp32_avx512;
    else if (simd_level() == Simd::AVX2) loop = &cpu::peak_fp32_avx2;
#elif defined(MPF_NEON)
    if (simd_level() == Simd::Neon) loop = &cpu::peak_fp32_neon;
#endif
    double per_round = 0;
    volatile float sink = 0;
    const int64_t rounds = 200000;
    const double t = seconds_median(reps, [&] { sink = sink + loop(rounds, &per_round); });
    std::printf("%-52s %8.1f\n", "peak fp32, one thread", per_round * double(rounds) / t / 1e9);
    if (num_threads() > 1) std::printf("%-52s %8.1f\n", "peak fp32, all threads (wall, 200 ms)", cpu::peak_gflops(200).fp32_gflops);
  }
  {
    const int64_t kc = 256, panels = 8, inner = 200;
    std::vector<float> a = to_f(randn(size_t(mr * kc))), b = to_f(randn(size_t(panels * kc * nr))), c(size_t(mr * nr * panels));
    for (int64_t np : {int64_t(1), panels}) {
      char d[100];
      std::snprintf(d, sizeof d, "ukr %dx%d kc %lld, %s", mr, nr, (long long)kc, np == 1 ? "B panel in L1" : "8 B panels (L2)");
      if (!filt(d)) continue;
      const double t = seconds_median(reps, [&] {
        for (int64_t r = 0; r < inner; ++r)
          for (int64_t j = 0; j < panels; ++j) {
            const int64_t jj = np == 1 ? 0 : j;
            kern.ukr[mr](kc, a.data(), b.data() + jj * kc * nr, c.data() + jj * nr, nr * panels, nr, false, nullptr, nullptr);
          }
      });
      std::printf("%-52s %8.1f\n", d, 2.0 * mr * nr * kc * panels * inner / t / 1e9);
    }
  }
  // Packing rates, GB/s of packed floats (source in L1 / source 9216 x 260, the tall product's A).
  for (int64_t rows : {int64_t(mr), int64_t(9216)}) {
    char d[100];
    std::snprintf(d, sizeof d, "pack_a_rows %d x 256 tiles from %lld x 260 (GB/s)", mr, (long long)rows);
    if (!filt(d)) continue;
    std::vector<float> src = to_f(randn(size_t(rows * 260))), dst(size_t(mr * 256));
    const int64_t tiles = rows / mr, inner = rows == mr ? 2000 : 1;
    const double t = seconds_median(reps, [&] {
      for (int64_t r = 0; r < inner; ++r)
        for (int64_t ti = 0; ti < tiles; ++ti) cpu::sgemm_pack_a_rows(src.data() + ti * mr * 260, 260, mr, 256, dst.data());
    });
    std::printf("%-52s %8.1f\n", d, double(tiles * inner * mr * 256 * 4) / t / 1e9);
  }
  {
    char d[100];
    std::snprintf(d, sizeof d, "pack_b_rows 256 x 256 from 1024 x 1024 (GB/s)");
    if (filt(d)) {
      std::vector<float> src = to_f(randn(size_t(1024 * 1024))), dst(size_t(256 * 256));
      const double t = seconds_median(reps, [&] {
        for (int64_t i = 0; i < 16; ++i) cpu::sgemm_pack_b_rows(src.data() + (i / 4) * 256 * 1024 + (i % 4) * 256, 1024, 256, 256, nr, dst.data(), 0);
      });
      std::printf("%-52s %8.1f\n", d, double(16 * 256 * 256 * 4) / t / 1e9);
    }
  }
  // bench/matmul.bench.ts's shapes: squares, and a 1x1 conv's tall-skinny product.
  for (auto [m, k, n] : std::vector<std::array<int64_t, 3>>{{256, 256, 256}, {1024, 1024, 1024}, {2048, 2048, 2048}, {9216, 260, 52}}) {
    char d[100];
    if (m == k && k == n) std::snprintf(d, sizeof d, "matmul square %lld", (long long)n);
    else std::snprintf(d, sizeof d, "matmul tall %lldx%lld . %lldx%lld", (long long)m, (long long)k, (long long)k, (long long)n);
    if (!filt(d)) continue;
    std::vector<float> A = to_f(randn(size_t(m * k))), B = to_f(randn(size_t(k * n))), C(size_t(m * n));
    const double t = seconds_median(reps, [&] { cpu::gemm<float>(false, false, m, n, k, A.data(), k, B.data(), n, C.data(), n); });
    const double f = 2.0 * double(m * n * k);
    std::printf("%-52s %8.1f  (best run %.1f)\n", d, f / t / 1e9, f / g_last_min / 1e9);
  }
  // Winograd F(4x4,3x3): 36 points; T = lanes of one block (plan_blocks picks 32 (K 104) or 64 (K 52) with its 512 KB V budget).
  for (int64_t K : {104, 52})
    for (int64_t T : {32, 64, 128, 256}) {
      const int64_t R = 52, X = 36;
      char d[100];
      std::snprintf(d, sizeof d, "winograd points M%lld K%lld T%lld (x36)", (long long)R, (long long)K, (long long)T);
      if (!filt(d)) continue;
      const int64_t nt = (R + mr - 1) / mr;
      std::vector<float> U = to_f(randn(size_t(X * R * K))), V = to_f(randn(size_t(X * K * T))), M(size_t(X * R * T));
      const int64_t panels = (T + nr - 1) / nr;
      const double t = seconds_median(reps, [&] {
        for (int64_t xi = 0; xi < X; ++xi) {
          int64_t m0 = 0;
          for (int64_t ti = 0; ti < nt; ++ti) {
            const int h = int(R / nt + (ti < R % nt ? 1 : 0));
            for (int64_t j = 0; j < panels; ++j)
              kern.ukr[h](K, U.data() + xi * R * K + m0 * K, V.data() + xi * K * T + j * K * nr, M.data() + (xi * R + m0) * T + j * nr, T,
                          nr, false, nullptr, nullptr);
            m0 += h;
          }
        }
      });
      std::printf("%-52s %8.1f\n", d, 2.0 * double(X * R * K * T) / t / 1e9);
    }
}

}  // namespace

int main(int argc, char** argv) {
  bool do_bench = false, do_gemm = false, do_transforms = false;
  int reps = 10;
  cpu::InferencePrecision bench_precision = cpu::InferencePrecision::Strict;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--bench")) do_bench = true;
    else if (!std::strcmp(argv[i], "--gemm")) do_gemm = true;
    else if (!std::strcmp(argv[i], "--transforms")) do_transforms = true;
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--cpu-time")) g_cpu_time = true;
    else if (!std::strcmp(argv[i], "--no-check")) g_skip_check = true;
    else if (!std::strcmp(argv[i], "--selu")) g_bench_act = cpu::Conv2dActivation::Selu;
    else if (!std::strcmp(argv[i], "--cold")) g_cold = true;
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) g_only = argv[++i];
    else if (!std::strcmp(argv[i], "--precision") && i + 1 < argc) {
      if (!cpu::parse_inference_precision(argv[++i], &bench_precision)) {
        std::fprintf(stderr, "--precision: strict, fp32 or bf16\n");
        return 2;
      }
    }
    else if (!std::strcmp(argv[i], "--pass") && i + 1 < argc) g_pass = argv[++i];
    else if (!std::strcmp(argv[i], "--algo") && i + 1 < argc) {
      cpu::Conv2dAlgoMode m;
      if (!cpu::parse_conv2d_algo_mode(argv[++i], &m)) {
        std::fprintf(stderr, "--algo: auto, gemm, winograd, winograd2, winograd6, winograd8, lattice or direct\n");
        return 2;
      }
      cpu::set_conv2d_algo_mode(m);
      g_all_algos = false;
    }
  }
  std::printf("conv2d / gemm check: float paths vs float64 direct loops (cpu: %s, threads %d)\n", simd_name(simd_level()), num_threads());
  bool ok = true;
  if (!g_skip_check) ok = check_gemm(1e-5);
  const double tol = 1e-5;
  const std::vector<Conv2dShape> shapes = {
      shape(1, {3}, 5, 7, 9, 3, 1, 1, 1),          shape(2, {4}, 6, 11, 8, 3, 2, 1, 1),
      shape(2, {5, 3}, 7, 13, 10, 3, 1, 2, 2),     shape(1, {6}, 4, 17, 15, 3, 1, 3, 3),
      shape(1, {3, 2, 4}, 5, 9, 9, 1, 1, 0, 1),    shape(3, {7}, 9, 10, 12, 1, 2, 0, 1),
      shape(1, {4}, 3, 20, 20, 3, 1, 6, 6),        shape(1, {2, 3}, 4, 21, 19, 3, 1, 9, 9),
      shape(2, {3}, 4, 12, 12, 5, 2, 2, 1),        shape(1, {4}, 4, 8, 8, 3, 1, 0, 1),
      shape(1, {3}, 2, 6, 6, 3, 1, 4, 1),          shape(1, {52}, 52, 24, 24, 3, 1, 3, 3),
      shape(2, {52, 52}, 52, 30, 26, 3, 1, 1, 1),  shape(1, {52, 52, 52, 52, 52}, 52, 24, 24, 1, 1, 0, 1),
      shape(1, {52}, 52, 48, 48, 3, 1, 9, 9),      shape(1, {52}, 208, 24, 24, 3, 1, 1, 1),
      shape(1, {52}, 3, 40, 40, 3, 1, 1, 1),       shape(2, {3}, 52, 33, 31, 3, 1, 1, 1),
      // Wide rows: whole 16-tile chunks of the AVX-512 staging (F(6x6): 34 tiles per row, F(4x4) 51).
      shape(1, {5, 3}, 4, 14, 203, 3, 1, 1, 1),
  };
  if (!g_skip_check) {
    const cpu::Conv2dAlgoMode chosen = cpu::conv2d_algo_mode();
    std::vector<cpu::Conv2dAlgoMode> modes = {chosen};
    if (g_all_algos) modes = {cpu::Conv2dAlgoMode::Auto, cpu::Conv2dAlgoMode::Gemm, cpu::Conv2dAlgoMode::Winograd4, cpu::Conv2dAlgoMode::Winograd2, cpu::Conv2dAlgoMode::Winograd6,
                                       cpu::Conv2dAlgoMode::Winograd8, cpu::Conv2dAlgoMode::Lattice};
    for (cpu::Conv2dAlgoMode m : modes) {
      cpu::set_conv2d_algo_mode(m);
      // F(4x4, 3x3) rounds a few times more than a direct sum (its transforms scale by up to 8 and
      // 1/24); the bound is still far below anything training notices.
      // F(6x6, 3x3) about 10x more again (21/4, 32 and 1/32), F(8x8, 3x3) 10x more than that:
      // inference only.
      const double t = m == cpu::Conv2dAlgoMode::Winograd8                                    ? 1e-2
                       : m == cpu::Conv2dAlgoMode::Winograd6                                    ? 1e-3
                       : m == cpu::Conv2dAlgoMode::Winograd4 || m == cpu::Conv2dAlgoMode::Auto ? 1e-4
                                                                                                : tol;
      for (const Conv2dShape& s : shapes) ok = check_conv(s, t) && ok;
    }
    cpu::set_conv2d_algo_mode(chosen);
  }
  if (!g_skip_check) ok = check_bf16_gemm() && ok;
  if (!g_skip_check) ok = check_precisions() && ok;
  std::printf("%s\n", ok ? "all checks passed" : "SOME CHECKS FAILED");
  cpu::set_inference_precision(bench_precision);  // the forward column of --bench
  if (do_bench) bench(reps);
  if (do_gemm) bench_gemm(reps);
  if (do_transforms) {
    set_num_threads(1);
    bench_transforms(reps);
  }
  return ok ? 0 : 1;
}
