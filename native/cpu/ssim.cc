#include "cpu/ssim.h"

#include <algorithm>
#include <cmath>

#include "common/thread_pool.h"

namespace mpf::cpu {
namespace {

constexpr int kRadius = 5;
constexpr int kTaps = 2 * kRadius + 1;
constexpr int64_t kStrip = 64;  // output rows per task: recomputes 10 input rows per 64

struct Window {
  double g[kTaps];
  Window() {
    double sum = 0;
    for (int i = 0; i < kTaps; ++i) {
      const double x = i - kRadius;
      g[i] = std::exp(-(x * x) / (2 * 1.5 * 1.5));
      sum += g[i];
    }
    for (double& v : g) v /= sum;
  }
};

constexpr int64_t kTile = 256;  // output columns per tile: the 11-row ring stays in L2

// Loops run over the columns of a tile innermost with the taps outside, so they vectorise.

// Horizontal 11-tap sums of the five statistics for output columns [c0, c0 + n) of one row.
void horizontal(const double* xa, const double* xb, int64_t c0, int64_t n, const double* g, double* __restrict sx,
                double* __restrict sy, double* __restrict sxx, double* __restrict syy, double* __restrict sxy) {
  std::fill(sx, sx + n, 0.0);
  std::fill(sy, sy + n, 0.0);
  std::fill(sxx, sxx + n, 0.0);
  std::fill(syy, syy + n, 0.0);
  std::fill(sxy, sxy + n, 0.0);
  for (int k = 0; k < kTaps; ++k) {
    const double* __restrict pa = xa + c0 + k;
    const double* __restrict pb = xb + c0 + k;
    const double gk = g[k];
    for (int64_t c = 0; c < n; ++c) {
      const double x = pa[c], y = pb[c];
      sx[c] += gk * x;
      sy[c] += gk * y;
      sxx[c] += gk * x * x;
      syy[c] += gk * y * y;
      sxy[c] += gk * x * y;
    }
  }
}

// Sum of the SSIM map over output rows [r0, r1) of one plane, in column tiles; the horizontal
// results of the last 11 input rows live in a ring.
double strip_sum(const double* a, const double* b, int64_t w, int64_t r0, int64_t r1, const double* g) {
  const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
  const int64_t ow = w - 2 * kRadius;
  std::vector<double> ring(static_cast<size_t>(5 * kTaps * kTile));
  std::vector<double> acc(static_cast<size_t>(6 * kTile));
  double* __restrict mx = acc.data();
  double* __restrict my = mx + kTile;
  double* __restrict exx = my + kTile;
  double* __restrict eyy = exx + kTile;
  double* __restrict exy = eyy + kTile;
  double* __restrict val = exy + kTile;
  double total = 0;
  for (int64_t c0 = 0; c0 < ow; c0 += kTile) {
    const int64_t n = std::min(kTile, ow - c0);
    auto stat = [&](int s, int64_t row) { return ring.data() + (s * kTaps + row % kTaps) * kTile; };
    for (int64_t ir = r0; ir < r1 + 2 * kRadius; ++ir) {
      horizontal(a + ir * w, b + ir * w, c0, n, g, stat(0, ir), stat(1, ir), stat(2, ir), stat(3, ir), stat(4, ir));
      const int64_t orow = ir - 2 * kRadius;  // the output row whose window ends at input row ir
      if (orow < r0) continue;
      std::fill(acc.begin(), acc.begin() + 5 * kTile, 0.0);
      for (int k = 0; k < kTaps; ++k) {
        const double gk = g[k];
        const double* __restrict hx = stat(0, orow + k);
        const double* __restrict hy = stat(1, orow + k);
        const double* __restrict hxx = stat(2, orow + k);
        const double* __restrict hyy = stat(3, orow + k);
        const double* __restrict hxy = stat(4, orow + k);
        for (int64_t c = 0; c < n; ++c) {
          mx[c] += gk * hx[c];
          my[c] += gk * hy[c];
          exx[c] += gk * hxx[c];
          eyy[c] += gk * hyy[c];
          exy[c] += gk * hxy[c];
        }
      }
      for (int64_t c = 0; c < n; ++c) {
        const double mxx = mx[c] * mx[c], myy = my[c] * my[c], mxy = mx[c] * my[c];
        const double num = (2 * mxy + c1) * (2 * (exy[c] - mxy) + c2);
        const double den = (mxx + myy + c1) * (exx[c] - mxx + (eyy[c] - myy) + c2);
        val[c] = num / den;
      }
      for (int64_t c = 0; c < n; ++c) total += val[c];
    }
  }
  return total;
}

}  // namespace

std::vector<double> ssim_channel_means(const double* a, const double* b, int64_t channels, int64_t height, int64_t width) {
  static const Window window;
  const int64_t oh = height - 2 * kRadius, ow = width - 2 * kRadius;
  const int64_t strips = (oh + kStrip - 1) / kStrip;
  // Partial sums per (channel, strip), added in a fixed order: the result does not depend on
  // the thread count.
  std::vector<double> partial(static_cast<size_t>(channels * strips));
  parallel_tasks(channels * strips, [&](int64_t t) {
    const int64_t c = t / strips, s = t % strips;
    const int64_t r0 = s * kStrip, r1 = std::min(oh, r0 + kStrip);
    partial[size_t(t)] = strip_sum(a + c * height * width, b + c * height * width, width, r0, r1, window.g);
  });
  std::vector<double> means(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    double s = 0;
    for (int64_t k = 0; k < strips; ++k) s += partial[size_t(c * strips + k)];
    means[size_t(c)] = s / double(oh * ow);
  }
  return means;
}

}  // namespace mpf::cpu
