// Standalone SIMD check, llm.c style: every ISA instantiation of the kernels written over a vector
// type (native/cpu/simd/) against the same template instantiated over the portable vector type
// (plain arrays), on random inputs, every output element compared. Covers the GEMM micro-kernels
// (every tile height, ragged widths, bias / accumulate variants) and packers, the conv2d im2col
// packers, the exp-based unary ops (exp, selu, sigmoid, tanh, with tails), the float32 row sum and
// upsample_tail's composed 5x5 convolution rows.
//
// x86-64:  npx cmake-js configure -O build-check --CDMPF_BUILD_CHECKS=ON && npx cmake-js build -O build-check
//          build-check/check_simd            (checks AVX2 and AVX-512 where the CPU has them)
// aarch64: npm run check:simd-neon           (cross-built static with aarch64-linux-gnu-g++, run
//                                             under qemu-aarch64; checks NEON)
// Exit status 0 when every comparison is within tolerance; packers must match bit for bit.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/cpu_features.h"
#include "cpu/gemm_kernels.h"
#include "cpu/conv2d_impl.h"
#include "cpu/reduce_simd.h"
#include "cpu/simd/conv2d_pack.h"
#include "cpu/simd/gemm.h"
#include "cpu/simd/reduce.h"
#include "cpu/simd/unary.h"
#include "cpu/simd/vec_portable.h"
#include "cpu/unary_simd.h"
#include "cpu/upsample_tail_simd.h"

using namespace mpf;
using cpu::gemm_detail::SgemmKernels;

namespace {

std::mt19937 rng(20261203);
int failures = 0;

std::vector<float> uniform(size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// A 64-byte-aligned float buffer (the micro-kernels load packed panels with aligned loads on
// some ISAs).
struct Aligned {
  float* p;
  explicit Aligned(size_t n) : p(static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64))) {}
  ~Aligned() { std::free(p); }
  Aligned(const Aligned&) = delete;
  Aligned& operator=(const Aligned&) = delete;
};

void report(const char* isa, const std::string& what, double worst, double tol) {
  const bool ok = worst <= tol;
  if (!ok) ++failures;
  std::printf("%-8s %-44s worst %.3g (tolerance %.3g) %s\n", isa, what.c_str(), worst, tol, ok ? "ok" : "FAIL");
}

// The portable kernel set with the same geometry as the ISA's (nr = NV_p * 8).
template <int NVp, int MR>
const SgemmKernels& portable_like() {
  static const SgemmKernels k = simd::gemm::make_kernels<simd::VecPortable, NVp, MR, false>();
  return k;
}

const SgemmKernels* portable_for(const SgemmKernels& k) {
  if (k.nr == 16 && k.mr_max == 6) return &portable_like<2, 6>();
  if (k.nr == 32 && k.mr_max == 14) return &portable_like<4, 14>();
  if (k.nr == 16 && k.mr_max == 14) return &portable_like<2, 14>();  // AVX-512's narrow last panels
  return nullptr;
}

// Packers bit for bit; each micro-kernel height with every bias / accumulate combination against
// the portable kernel on the same packed data (errors relative to sum |a||b| per element).
void check_gemm(const SgemmKernels& k) {
  const SgemmKernels* ref = portable_for(k);
  if (!ref) {
    std::printf("%-8s gemm: no portable twin for %d x %d tiles FAIL\n", k.name, k.mr_max, k.nr);
    ++failures;
    return;
  }
  const int nr = k.nr;
  for (int64_t kc : {1, 7, 64, 131}) {
    for (int64_t nc : {int64_t(1), int64_t(nr - 3), int64_t(nr), int64_t(2 * nr + 5)}) {
      const int64_t panels = (nc + nr - 1) / nr, ld = nc + 3;
      const auto src = uniform(size_t(kc * ld)), src_t = uniform(size_t(nc * (kc + 2)));
      Aligned got(size_t(panels * kc * nr)), want(size_t(panels * kc * nr));
      size_t bad = 0;
      k.pack_b_rows(src.data(), ld, kc, nc, nr, got.p, kc * nr);
      ref->pack_b_rows(src.data(), ld, kc, nc, nr, want.p, kc * nr);
      for (int64_t i = 0; i < panels * kc * nr; ++i) bad += got.p[i] != want.p[i];
      k.pack_b_cols(src_t.data(), kc + 2, kc, nc, nr, got.p, kc * nr);
      ref->pack_b_cols(src_t.data(), kc + 2, kc, nc, nr, want.p, kc * nr);
      for (int64_t i = 0; i < panels * kc * nr; ++i) bad += got.p[i] != want.p[i];
      report(k.name, "gemm pack B kc " + std::to_string(kc) + " nc " + std::to_string(nc), double(bad), 0);
    }
    for (int mr = 1; mr <= k.mr_max; ++mr) {
      const auto a_src = uniform(size_t(mr * (kc + 1)));
      Aligned a_got(size_t(mr * kc)), a_want(size_t(mr * kc));
      k.pack_a_rows(a_src.data(), kc + 1, mr, kc, a_got.p);
      ref->pack_a_rows(a_src.data(), kc + 1, mr, kc, a_want.p);
      size_t bad = 0;
      for (int64_t i = 0; i < mr * kc; ++i) bad += a_got.p[i] != a_want.p[i];
      double worst = 0;
      Aligned b(size_t(kc * nr));
      const auto b_vals = uniform(size_t(kc * nr));
      std::memcpy(b.p, b_vals.data(), b_vals.size() * sizeof(float));
      const auto bias_row = uniform(size_t(mr)), bias_col = uniform(size_t(nr));
      for (int variant = 0; variant < 8; ++variant) {
        const bool load_c = variant & 1;
        const float* br = variant & 2 ? bias_row.data() : nullptr;
        const float* bc = variant & 4 ? bias_col.data() : nullptr;
        const int n_valid = variant == 0 ? nr : 1 + int(rng() % unsigned(nr));
        const int64_t ldc = nr + 5;
        const auto c0 = uniform(size_t(mr * ldc));
        std::vector<float> c_got = c0, c_want = c0;
        k.ukr[mr](kc, a_want.p, b.p, c_got.data(), ldc, n_valid, load_c, br, bc);
        ref->ukr[mr](kc, a_want.p, b.p, c_want.data(), ldc, n_valid, load_c, br, bc);
        if (!br && !bc) {  // A read row-major instead of packed: the same sums, bit for bit
          std::vector<float> c_rows = c0;
          k.ukr_rows[mr](kc, a_src.data(), kc + 1, b.p, c_rows.data(), ldc, n_valid, load_c);
          for (size_t at = 0; at < c_rows.size(); ++at) bad += c_rows[at] != c_got[at];
        }
        for (int i = 0; i < mr; ++i)
          for (int j = 0; j < int(ldc); ++j) {
            const size_t at = size_t(i * ldc + j);
            if (j >= n_valid) {  // past the valid columns nothing may be written
              bad += c_got[at] != c0[at];
              continue;
            }
            double scale = 3.0;  // |bias| + |c| bounds
            for (int64_t kk = 0; kk < kc; ++kk) scale += std::fabs(a_want.p[kk * mr + i] * b.p[kk * nr + j]);
            worst = std::max(worst, std::fabs(double(c_got[at]) - double(c_want[at])) / scale);
          }
      }
      report(k.name, "gemm pack A, ukr rows-A + ukr mr " + std::to_string(mr) + " kc " + std::to_string(kc) + " (bits off)", double(bad), 0);
      report(k.name, "gemm ukr mr " + std::to_string(mr) + " kc " + std::to_string(kc), worst, 4e-7);
    }
  }
}

// Distance in units in the last place (floats ordered as integers); NaN vs NaN is 0.
double ulps(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : 1e30;
  if (a == b) return 0;
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if (ia < 0) ia = int32_t(0x80000000u) - ia;
  if (ib < 0) ib = int32_t(0x80000000u) - ib;
  return std::fabs(double(ia) - double(ib));
}

// im2col panels from random bounds tables: 2 channels, 1x1 taps, 1-3 runs per panel with random
// lane masks (lanes off must read as zero); bit for bit against the portable packer.
using PackColFn = void (*)(const cpu::conv2d_detail::ColPanels&);

void check_pack_col(const char* isa, PackColFn fn, int nr) {
  using cpu::conv2d_detail::ColPanels;
  const auto plane = uniform(4096);
  const float* planes[2] = {plane.data(), plane.data() + 1024};
  const int64_t batch_stride[2] = {0, 0};
  size_t bad = 0;
  for (int64_t panels : {1, 5, 16}) {
    std::vector<int32_t> seg_begin{0};
    std::vector<int64_t> row_off, col_off;
    std::vector<uint32_t> row_mask, mask;
    for (int64_t j = 0; j < panels; ++j) {
      const int runs = 1 + int(rng() % 3);
      for (int r = 0; r < runs; ++r) {
        row_off.push_back(int64_t(rng() % 2000));
        col_off.push_back(int64_t(rng() % 900));
        row_mask.push_back(rng() % 5 ? ~0u : 0u);  // some padding rows
        mask.push_back(uint32_t(rng()) & (nr == 32 ? ~0u : (1u << nr) - 1));
      }
      seg_begin.push_back(int32_t(row_off.size()));
    }
    const int64_t kc = 2;
    Aligned got(size_t(panels * kc * nr)), want(size_t(panels * kc * nr));
    ColPanels job{planes, batch_stride, 1, 1, 0, 0, kc, panels, seg_begin.data(), row_off.data(), row_mask.data(), col_off.data(),
                  mask.data(), got.p};
    fn(job);
    job.dst = want.p;
    if (nr == 32) simd::pack_col_panels<simd::VecPortable, 4>(job);
    else simd::pack_col_panels<simd::VecPortable, 2>(job);
    bad += size_t(std::memcmp(got.p, want.p, size_t(panels * kc * nr) * sizeof(float)) != 0);
  }
  report(isa, "conv2d pack_col_panels (panels differing)", double(bad), 0);
}

#if defined(MPF_X86)
// Contiguous column runs with padding on every side, bit for bit against the portable version.
void check_col_run_avx512() {
  using cpu::conv2d_detail::ColRun;
  const int64_t h = 9, w = 13;
  const auto plane = uniform(size_t(h * w));
  size_t bad = 0;
  for (int64_t offh : {-1, 0, 2})
    for (int64_t offw : {-2, 0, 1})
      for (int64_t count : {1, 7, 16, 40, 90}) {
        const ColRun r{plane.data(), h, w, w, 1, offh, offw};
        std::vector<float> got(static_cast<size_t>(count) + 8, 7.0f), want = got;
        cpu::conv2d_detail::col_run_avx512(r, 1, 3, count, got.data());
        simd::col_run<simd::VecPortable>(r, 1, 3, count, want.data());
        bad += size_t(got != want);
      }
  report("avx512", "conv2d col_run (cases differing)", double(bad), 0);
}
#endif

using UnaryFn = void (*)(UnaryOp, const float*, float*, int64_t);

void check_unary(const char* isa, UnaryFn fn) {
  const struct {
    UnaryOp op;
    const char* name;
  } ops[] = {{UnaryOp::Exp, "exp"}, {UnaryOp::Selu, "selu"}, {UnaryOp::Sigmoid, "sigmoid"}, {UnaryOp::Tanh, "tanh"}};
  for (const auto& o : ops) {
    double worst = 0;
    for (int64_t n : {1, 3, 17, 1000, 4099}) {
      auto x = uniform(size_t(n), -30.0f, 30.0f);
      if (n > 10) {  // the edges: overflow, underflow, NaN, infinities, zeros
        const float edge[] = {100.0f, -120.0f, NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 88.7f, -87.3f, 1e-8f};
        std::copy(std::begin(edge), std::end(edge), x.begin());
      }
      std::vector<float> got(static_cast<size_t>(n)), want(static_cast<size_t>(n));
      fn(o.op, x.data(), got.data(), n);
      simd::unary_forward<simd::VecPortable>(o.op, x.data(), want.data(), n);
      for (int64_t i = 0; i < n; ++i) worst = std::max(worst, ulps(got[size_t(i)], want[size_t(i)]));
    }
    // Fused multiply-adds on one side only: a few ulp apart at most.
    report(isa, std::string("unary ") + o.name + " (ulp)", worst, 4);
  }
}

// The inference precisions' SELU (short exp, simd::UnaryOps::selu_inference), written once over
// the vector type and inlined into the x86 convolutions' output transforms (check_conv2d covers it
// there): the portable instantiation against float64 selu, |error| / max(|selu|, 1), on [-100, 30]
// and the edges (the short exp alone is within 2.4e-7 relative; measured worst here 2.8e-7).
void check_selu_inference() {
  using V = simd::VecPortable;
  auto x = uniform(4096, -100.0f, 30.0f);
  const float edge[] = {-120.0f, -87.3f, -87.0f, -20.0f, -1.0f, -1e-3f, -1e-8f, 0.0f, -0.0f, 1e-8f, 5.0f};
  std::copy(std::begin(edge), std::end(edge), x.begin());
  double worst = 0;
  for (size_t i = 0; i < x.size(); i += V::kWidth) {
    float out[V::kWidth];
    V::store(out, simd::UnaryOps<V>::selu_inference(V::load(x.data() + i)));
    for (int l = 0; l < V::kWidth; ++l) {
      const double v = x[i + size_t(l)], want = v > 0 ? kSeluScale * v : kSeluScale * kSeluAlpha * std::expm1(v);
      worst = std::max(worst, std::fabs(out[l] - want) / std::max(std::fabs(want), 1.0));
    }
  }
  report("portable", "selu_inference (error / max(|selu|, 1))", worst, 4e-7);
}

using SumFn = double (*)(const float*, int64_t);

void check_sum(const char* isa, SumFn fn) {
  double worst = 0;
  for (int64_t n : {1, 5, 33, 512, 513, 10007}) {
    const auto x = uniform(size_t(n));
    double abs_sum = 0;
    for (float v : x) abs_sum += std::fabs(v);
    const double got = fn(x.data(), n), want = simd::sum_f32<simd::VecPortable>(x.data(), n);
    worst = std::max(worst, std::fabs(got - want) / abs_sum);
  }
  report(isa, "sum_f32 (relative to sum |x|)", worst, 1e-6);
}

using ComposedRowFn = void (*)(const simd::ComposedConvRow&, int64_t);

// Every output row of small images (widths with interior and edge blocks, ragged last vectors, a
// last group with fewer outputs) against the portable instantiation; relative to sum |w·x| + |b|.
void check_composed(const char* isa, ComposedRowFn fn) {
  constexpr int G = cpu::kComposedGroup;
  double worst = 0;
  for (auto [c, h, w, outputs] : {std::array<int64_t, 4>{3, 5, 70, G}, {2, 1, 1, 4}, {4, 3, 133, G - 1}, {1, 6, 37, 1}}) {
    const auto x = uniform(size_t(c * h * w)), wt = uniform(size_t(c * 25 * G)), b = uniform(size_t(G));
    std::vector<float> got(size_t(G * h * w), NAN), want(got.size(), NAN), mag(got.size(), 0.0f);
    auto wabs = wt, xabs = x, babs = b;
    for (auto* v : {&wabs, &xabs, &babs})
      for (float& f : *v) f = std::fabs(f);
    std::vector<float> edge(size_t(c * 5 * simd::kComposedEdgeRow));
    for (int pass = 0; pass < 3; ++pass) {
      simd::ComposedConvRow a{pass == 2 ? xabs.data() : x.data(), c, h, w, pass == 2 ? wabs.data() : wt.data(), pass == 2 ? babs.data() : b.data(),
                              (pass == 0 ? got : pass == 1 ? want : mag).data(), h * w, int(outputs), edge.data()};
      for (int64_t row = 0; row < h; ++row) pass == 0 ? fn(a, row) : simd::composed_conv_row<simd::VecPortable, 1, G>(a, row);
    }
    for (size_t i = 0; i < got.size(); ++i) {
      if (int64_t(i) / (h * w) >= outputs) {  // outputs past the group's real ones are never written
        if (!std::isnan(got[i])) worst = INFINITY;
        continue;
      }
      worst = std::max(worst, double(std::fabs(got[i] - want[i])) / std::max(1e-6f, mag[i]));
    }
  }
  report(isa, "upsample_tail composed rows (rel. sum |w x|)", worst, 1e-6);
}

}  // namespace

int main() {
  const Simd level = simd_level();
  std::printf("check_simd: ISA instantiations vs the portable vector type (cpu: %s)\n", simd_name(level));
  int checked = 0;
  check_selu_inference();
#if defined(MPF_X86)
  if (level == Simd::AVX2 || level == Simd::AVX512) {
    check_gemm(cpu::gemm_detail::kernels_avx2());
    check_unary("avx2", cpu::unary_forward_avx2);
    check_sum("avx2", cpu::sum_f32_avx2);
    check_pack_col("avx2", cpu::conv2d_detail::pack_col_panels_avx2, 16);
    check_composed("avx2", cpu::composed_conv_row_avx2);
    ++checked;
  }
  if (level == Simd::AVX512) {
    check_gemm(cpu::gemm_detail::kernels_avx512());
    check_gemm(cpu::gemm_detail::kernels_avx512_narrow());
    check_unary("avx512", cpu::unary_forward_avx512);
    check_pack_col("avx512", cpu::conv2d_detail::pack_col_panels_avx512, 32);
    check_col_run_avx512();
    check_composed("avx512", cpu::composed_conv_row_avx512);
    ++checked;
  }
#endif
#if defined(MPF_NEON)
  if (level == Simd::Neon) {
    check_gemm(cpu::gemm_detail::kernels_neon());
    check_unary("neon", cpu::unary_forward_neon);
    check_sum("neon", cpu::sum_f32_neon);
    check_pack_col("neon", cpu::conv2d_detail::pack_col_panels_neon, 16);
    check_composed("neon", cpu::composed_conv_row_neon);
    ++checked;
  }
#endif
  if (!checked) {
    std::printf("no SIMD instantiation to check on this CPU (level %s)\n", simd_name(level));
    return 1;
  }
  std::printf("%s\n", failures ? "FAILED" : "all ok");
  return failures ? 1 : 0;
}
