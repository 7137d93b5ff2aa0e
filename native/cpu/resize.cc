#include "cpu/resize.h"

#include <algorithm>
#include <cmath>

#include "common/errors.h"
#include "common/thread_pool.h"

namespace mpf::cpu {
namespace {

constexpr double kPi = 3.14159265358979323846;
// MATLAB's eps(1): the Lanczos formulas add it so that x = 0 gives 1 without a special case.
constexpr double kEps = 2.220446049250313e-16;
// A sparse map larger than this is a caller's mistake (e.g. a scale of 1e-9), not an image.
constexpr int64_t kMaxEntries = int64_t(1) << 27;

double kernel_width(ResizeKernel k) {
  switch (k) {
    case ResizeKernel::Cubic: return 4;
    case ResizeKernel::Linear: return 2;
    case ResizeKernel::Box: return 1;
    case ResizeKernel::Lanczos2: return 4;
    case ResizeKernel::Lanczos3: return 6;
    default: throw_range("resize: unknown kernel ", int(k));
  }
}

// The kernels as MATLAB defines them (cubic: Keys' kernel with a = -0.5).
double kernel_at(ResizeKernel k, double x) {
  switch (k) {
    case ResizeKernel::Cubic: {
      const double a = std::fabs(x), a2 = a * a, a3 = a2 * a;
      if (a <= 1) return 1.5 * a3 - 2.5 * a2 + 1;
      if (a <= 2) return -0.5 * a3 + 2.5 * a2 - 4 * a + 2;
      return 0;
    }
    case ResizeKernel::Linear:
      if (-1 <= x && x < 0) return x + 1;
      if (0 <= x && x <= 1) return 1 - x;
      return 0;
    case ResizeKernel::Box:
      return (-0.5 <= x && x < 0.5) ? 1 : 0;
    case ResizeKernel::Lanczos2:
      if (!(std::fabs(x) < 2)) return 0;
      return (std::sin(kPi * x) * std::sin(kPi * x / 2) + kEps) / ((kPi * kPi * x * x / 2) + kEps);
    case ResizeKernel::Lanczos3:
      if (!(std::fabs(x) < 3)) return 0;
      return (std::sin(kPi * x) * std::sin(kPi * x / 3) + kEps) / ((kPi * kPi * x * x / 3) + kEps);
    default: return 0;
  }
}

// Symmetric padding: ... 2 1 0 | 0 1 2 ... n-1 | n-1 n-2 ..., periodic with period 2n.
int64_t mirror(int64_t j, int64_t n) {
  int64_t m = j % (2 * n);
  if (m < 0) m += 2 * n;
  return m < n ? m : 2 * n - 1 - m;
}

}  // namespace

ResizeMatrix resize_matrix(int64_t in_len, int64_t out_len, double scale, ResizeKernel kernel, bool antialias) {
  if (in_len < 1 || out_len < 1) throw_range("resize: lengths must be >= 1, got ", in_len, " -> ", out_len);
  if (!(scale > 0) || !std::isfinite(scale)) throw_range("resize: 'scale' must be positive and finite, got ", scale);
  const bool stretch = antialias && scale < 1;
  const double width = stretch ? kernel_width(kernel) / scale : kernel_width(kernel);
  const int64_t taps = int64_t(std::ceil(width)) + 2;
  if (double(taps) * double(out_len) > double(kMaxEntries))
    throw_range("resize: ", in_len, " -> ", out_len, " samples at scale ", scale, " needs ", taps, " taps per sample; the scale is unreasonably small");
  ResizeMatrix m;
  m.rows = out_len;
  m.cols = in_len;
  m.row_start.reserve(size_t(out_len) + 1);
  m.col.reserve(size_t(out_len * taps));
  m.weight.reserve(size_t(out_len * taps));
  m.row_start.push_back(0);
  std::vector<double> w(static_cast<size_t>(taps));
  for (int64_t o = 0; o < out_len; ++o) {
    // MATLAB's coordinates are 1-based: output o+1 sits at input position u.
    const double u = double(o + 1) / scale + 0.5 * (1 - 1 / scale);
    const int64_t left = int64_t(std::floor(u - width / 2));
    double sum = 0;
    for (int64_t k = 0; k < taps; ++k) {
      const double d = u - double(left + k);
      w[size_t(k)] = stretch ? scale * kernel_at(kernel, scale * d) : kernel_at(kernel, d);
      sum += w[size_t(k)];
    }
    for (int64_t k = 0; k < taps; ++k) {
      const double wk = w[size_t(k)] / sum;
      // Zero weights add nothing for finite inputs; MATLAB drops them too (column-wise).
      if (wk == 0) continue;
      m.col.push_back(mirror(left + k - 1, in_len));
      m.weight.push_back(wk);
    }
    m.row_start.push_back(int64_t(m.col.size()));
  }
  return m;
}

ResizeMatrix transpose(const ResizeMatrix& m) {
  ResizeMatrix t;
  t.rows = m.cols;
  t.cols = m.rows;
  t.row_start.assign(size_t(t.rows) + 1, 0);
  for (int64_t c : m.col) ++t.row_start[size_t(c) + 1];
  for (int64_t r = 0; r < t.rows; ++r) t.row_start[size_t(r) + 1] += t.row_start[size_t(r)];
  t.col.resize(m.col.size());
  t.weight.resize(m.weight.size());
  std::vector<int64_t> fill(t.row_start.begin(), t.row_start.end() - 1);
  // Walking m's rows in order keeps each transposed row sorted by output index (a fixed,
  // thread-independent summation order).
  for (int64_t r = 0; r < m.rows; ++r) {
    for (int64_t e = m.row_start[size_t(r)]; e < m.row_start[size_t(r) + 1]; ++e) {
      const int64_t at = fill[size_t(m.col[size_t(e)])]++;
      t.col[size_t(at)] = r;
      t.weight[size_t(at)] = m.weight[size_t(e)];
    }
  }
  return t;
}

template <typename T>
void resize_apply(const ResizeMatrix& m, const T* x, T* y, int64_t outer, int64_t inner) {
  const std::vector<T> w(m.weight.begin(), m.weight.end());
  const int64_t* rs = m.row_start.data();
  const int64_t* col = m.col.data();
  const T* wt = w.data();
  const int64_t rows = m.rows, cols = m.cols;
  if (inner == 1) {
    // Resizing the contiguous axis. A row-by-row gather does not vectorise, so blocks of kRows
    // rows are transposed: every output sample then becomes a weighted sum of kRows-wide input
    // columns (the same form as the outer-axis case), and the result is transposed back.
    constexpr int64_t kRows = 16;
    const int64_t blocks = (outer + kRows - 1) / kRows;
    const int64_t grain = std::max<int64_t>(1, 4096 / (kRows * std::max(rows, cols)));
    parallel_for(blocks, grain, [&](int64_t lo, int64_t hi) {
      std::vector<T> xt(static_cast<size_t>(cols * kRows)), yt(static_cast<size_t>(rows * kRows));
      for (int64_t blk = lo; blk < hi; ++blk) {
        const int64_t o0 = blk * kRows, nr = std::min(kRows, outer - o0);
        for (int64_t r = 0; r < nr; ++r) {
          const T* xr = x + (o0 + r) * cols;
          for (int64_t c = 0; c < cols; ++c) xt[size_t(c * kRows + r)] = xr[c];
        }
        for (int64_t r = nr; r < kRows; ++r)
          for (int64_t c = 0; c < cols; ++c) xt[size_t(c * kRows + r)] = T(0);
        for (int64_t q = 0; q < rows; ++q) {
          T acc[kRows] = {};
          for (int64_t e = rs[q]; e < rs[q + 1]; ++e) {
            const T we = wt[e];
            const T* __restrict xc = xt.data() + col[e] * kRows;
            for (int64_t r = 0; r < kRows; ++r) acc[r] += we * xc[r];
          }
          T* __restrict yq = yt.data() + q * kRows;
          for (int64_t r = 0; r < kRows; ++r) yq[r] = acc[r];
        }
        for (int64_t r = 0; r < nr; ++r) {
          T* yr = y + (o0 + r) * rows;
          for (int64_t q = 0; q < rows; ++q) yr[q] = yt[size_t(q * kRows + r)];
        }
      }
    });
    return;
  }
  // Resizing an outer axis: each output line is a weighted sum of whole input lines, which
  // vectorises along the contiguous inner axis.
  const int64_t grain = std::max<int64_t>(1, 16384 / inner);
  parallel_for(outer * rows, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t o = t / rows, r = t % rows;
      T* __restrict yr = y + t * inner;
      const T* xb = x + o * cols * inner;
      const int64_t e0 = rs[r], e1 = rs[r + 1];
      if (e0 == e1) {
        std::fill(yr, yr + inner, T(0));
        continue;
      }
      {
        const T* __restrict xr = xb + col[e0] * inner;
        const T we = wt[e0];
        for (int64_t i = 0; i < inner; ++i) yr[i] = we * xr[i];
      }
      for (int64_t e = e0 + 1; e < e1; ++e) {
        const T* __restrict xr = xb + col[e] * inner;
        const T we = wt[e];
        for (int64_t i = 0; i < inner; ++i) yr[i] += we * xr[i];
      }
    }
  });
}

template void resize_apply<float>(const ResizeMatrix&, const float*, float*, int64_t, int64_t);
template void resize_apply<double>(const ResizeMatrix&, const double*, double*, int64_t, int64_t);

}  // namespace mpf::cpu
