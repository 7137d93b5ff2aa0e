// The SGEMM driver (blocking, packing, threading), the portable kernel set, and the plain
// double-precision reference GEMM. Micro-kernels: cpu/simd/gemm.h, instantiated per ISA
// (gemm_avx2.cc, gemm_avx512.cc, gemm_neon.cc; the portable set here).
//
// Blocking (per task): the reduction is cut into blocks of about kKC; for each block the task packs
// its B columns (nc <= kNCMax, in nr-wide panels, <= 512 KB: stays in L2) and, unless A was packed
// once for everyone, its A rows; then every A tile (<= mr_max rows, <= 28 KB: stays in L1) sweeps
// all B panels. Tasks are (reduction slice, batch item, M chunk, N block); the split is chosen
// per problem so both cores get equal work even for a single small image.
#include "cpu/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "common/aligned_memory.h"
#include "common/cpu_features.h"
#include "common/thread_pool.h"
#include "cpu/gemm_kernels.h"
#include "cpu/simd/gemm.h"
#include "cpu/simd/vec_portable.h"

namespace mpf::cpu {

// ---- scratch ------------------------------------------------------------------------------------

namespace {
struct Scratch {
  static constexpr int kSlots = kScratchSlots;
  float* p[kSlots] = {};
  int64_t cap[kSlots] = {};
  ~Scratch() {
    for (float* q : p) aligned_free(q);
  }
};
thread_local Scratch t_scratch;
}  // namespace

float* thread_scratch(int slot, int64_t floats) {
  Scratch& s = t_scratch;
  if (floats > s.cap[slot]) {
    aligned_free(s.p[slot]);
    s.p[slot] = nullptr;
    s.cap[slot] = 0;
    const size_t bytes = (size_t(floats) * sizeof(float) + 63) / 64 * 64;
    void* q = aligned_malloc(64, bytes);
    if (!q) throw std::bad_alloc();
    s.p[slot] = static_cast<float*>(q);
    s.cap[slot] = floats;
  }
  return s.p[slot];
}

// ---- portable kernels -----------------------------------------------------------------------------

namespace gemm_detail {

// Packers for any panel width and tile height: the fallback when a caller's geometry is not the
// kernel set's (the vector packers of simd/gemm.h are fixed to theirs).
void pack_b_rows_scalar(const float* src, int64_t ld, int64_t kc, int64_t nc, int nr, float* dst, int64_t panel_stride) {
  for (int64_t j0 = 0; j0 < nc; j0 += nr, dst += panel_stride) {
    const int64_t w = std::min<int64_t>(nr, nc - j0);
    for (int64_t kk = 0; kk < kc; ++kk) {
      float* d = dst + kk * nr;
      std::memcpy(d, src + kk * ld + j0, size_t(w) * sizeof(float));
      for (int64_t j = w; j < nr; ++j) d[j] = 0.f;
    }
  }
}

void pack_b_cols_scalar(const float* src, int64_t ld, int64_t kc, int64_t nc, int nr, float* dst, int64_t panel_stride) {
  for (int64_t j0 = 0; j0 < nc; j0 += nr, dst += panel_stride) {
    const int64_t w = std::min<int64_t>(nr, nc - j0);
    for (int64_t j = 0; j < nr; ++j) {
      if (j < w) {
        const float* s = src + (j0 + j) * ld;
        for (int64_t kk = 0; kk < kc; ++kk) dst[kk * nr + j] = s[kk];
      } else {
        for (int64_t kk = 0; kk < kc; ++kk) dst[kk * nr + j] = 0.f;
      }
    }
  }
}

void pack_a_rows_scalar(const float* src, int64_t ld, int mr, int64_t kc, float* dst) {
  // mr row streams read in step; each row is contiguous, so this stays cache friendly.
  for (int i = 0; i < mr; ++i) {
    const float* s = src + i * ld;
    for (int64_t kk = 0; kk < kc; ++kk) dst[kk * mr + i] = s[kk];
  }
}

// The portable set: simd/gemm.h over 8 plain-array lanes, tiles of 4 x 8.
const SgemmKernels& kernels_scalar() {
  static const SgemmKernels k = simd::gemm::make_kernels<simd::VecPortable, 1, 4, false>();
  return k;
}

const SgemmKernels& kernels_for(Simd level) {
#if defined(MPF_X86)
  if (level == Simd::AVX512) return kernels_avx512();
  if (level == Simd::AVX2) return kernels_avx2();
#endif
#if defined(MPF_NEON)
  if (level == Simd::Neon) return kernels_neon();
#endif
  (void)level;
  return kernels_scalar();
}

const SgemmKernels* narrow_kernels_for(Simd level) {
#if defined(MPF_X86)
  if (level == Simd::AVX512) return &kernels_avx512_narrow();
#endif
  (void)level;
  return nullptr;
}

}  // namespace gemm_detail

using gemm_detail::SgemmKernels;

SgemmGeometry sgemm_geometry() {
  const SgemmKernels& k = gemm_detail::kernels_for(simd_level());
  return {k.mr_max, k.nr};
}

// ---- packing helpers ------------------------------------------------------------------------------

void sgemm_pack_a_rows(const float* src, int64_t ld, int mr, int64_t kc, float* dst) {
  if (mr > 16) return gemm_detail::pack_a_rows_scalar(src, ld, mr, kc, dst);
  gemm_detail::kernels_for(simd_level()).pack_a_rows(src, ld, mr, kc, dst);
}

void sgemm_pack_a_cols(const float* src, int64_t ld, int mr, int64_t kc, float* dst) {
  for (int64_t kk = 0; kk < kc; ++kk) std::memcpy(dst + kk * mr, src + kk * ld, size_t(mr) * sizeof(float));
}

void sgemm_pack_b_rows(const float* src, int64_t ld, int64_t kc, int64_t nc, int nr, float* dst, int64_t panel_stride) {
  const SgemmKernels& k = gemm_detail::kernels_for(simd_level());
  if (panel_stride <= 0) panel_stride = kc * nr;
  (k.nr == nr ? k.pack_b_rows : gemm_detail::pack_b_rows_scalar)(src, ld, kc, nc, nr, dst, panel_stride);
}

void sgemm_pack_b_cols(const float* src, int64_t ld, int64_t kc, int64_t nc, int nr, float* dst, int64_t panel_stride) {
  const SgemmKernels& k = gemm_detail::kernels_for(simd_level());
  if (panel_stride <= 0) panel_stride = kc * nr;
  (k.nr == nr ? k.pack_b_cols : gemm_detail::pack_b_cols_scalar)(src, ld, kc, nc, nr, dst, panel_stride);
}

// ---- the driver -----------------------------------------------------------------------------------

namespace {

// Reduction block: an A tile of 14 x 256 floats is 14 KB (L1, 48 KB on Zen 5).
constexpr int64_t kKC = 256;
// Deep products (K >= kDeepK) take blocks of up to kKCDeep: an A tile of 14 x 512 floats is 28 KB
// (L1, with room for the B panel's stream), a 512 x 256 B block 512 KB (L2, 1 MB), and the passes
// over C (each loads and stores every C tile once) halve: matmul 1024^2, 1 thread, 192 -> 195
// GFLOP/s, 200 with kMCMaxPrepacked below. MPF-Net's implicit-GEMM convolutions (K 260, 468)
// measured no faster with one 468-deep block, and it changes their float32 rounding enough to
// fail the PyTorch golden test (a d9 weight gradient's summary off by 1.06e-4 > 1e-4): they keep 256.
constexpr int64_t kKCDeep = 512;
constexpr int64_t kDeepK = 1024;
constexpr int64_t kNCMax = 256;        // columns per task block: a B block of <= 512 KB (L2)
// Rows of A a task packs per block: <= 224 x 512 x 4 = 448 KB, so A and B blocks share L2 (448 rows
// measured 119 GFLOP/s on the tall 9216x260.260x52 product, 224 rows 130; 2048^2 179 vs 174).
constexpr int64_t kMCMax = 224;
// Rows per chunk when A is packed once up front: the task then packs no A, and a taller chunk
// packs each B block fewer times (1024^2: once instead of 3x, 195 -> 200 GFLOP/s on 1 thread).
constexpr int64_t kMCMaxPrepacked = 1024;
constexpr int64_t kPrepackMax = 1 << 21;  // pack all of A once when M*K is at most this (8 MB)
// Below this many multiply-adds the threads' wake-up costs more than it saves.
constexpr int64_t kSerialMacs = 1 << 16;
constexpr int64_t kSerialPack = 1 << 16;  // floats of A packed on the calling thread alone

struct Tile {
  int64_t m0;  // first row (global)
  int mr;
  int seg;  // index into SgemmProblem::out
};

struct Chunk {
  size_t t0, t1;  // tiles [t0, t1)
  int64_t m0, rows;
};

// Splits each output segment into tiles of nearly equal height <= mr_max (52 rows -> 4 x 13),
// then groups consecutive tiles into chunks of at most mc_max rows.
void make_tiles(const SgemmProblem& p, int mr_max, int64_t mc_max, std::vector<Tile>& tiles, std::vector<Chunk>& chunks) {
  for (size_t s = 0; s < p.out.size(); ++s) {
    const int64_t rows = p.out[s].m1 - p.out[s].m0;
    if (rows <= 0) continue;
    const int64_t nt = (rows + mr_max - 1) / mr_max;
    const int64_t base = rows / nt, extra = rows % nt;
    int64_t m = p.out[s].m0;
    for (int64_t t = 0; t < nt; ++t) {
      const int mr = int(base + (t < extra ? 1 : 0));
      tiles.push_back({m, mr, int(s)});
      m += mr;
    }
  }
  size_t t = 0;
  while (t < tiles.size()) {
    Chunk c{t, t, tiles[t].m0, 0};
    while (c.t1 < tiles.size() && (c.rows == 0 || c.rows + tiles[c.t1].mr <= mc_max)) c.rows += tiles[c.t1++].mr;
    chunks.push_back(c);
    t = c.t1;
  }
}

struct Split {
  int64_t nblocks;  // N blocks per (batch item, chunk)
  int64_t slices;   // reduction slices (> 1: partial results summed at the end)
};

// Picks the N blocking and reduction split that minimise the modelled finishing time: tasks run
// dynamically on T threads, so the last wave decides; every task also pays a fixed overhead.
Split choose_split(const SgemmProblem& p, int64_t nchunks, int nr, int64_t nkb, bool serial) {
  const int64_t T = serial ? 1 : num_threads();
  const int64_t panels = (p.N + nr - 1) / nr;
  const int64_t max_panels = std::max<int64_t>(1, (p.nc_max > 0 ? p.nc_max : kNCMax) / nr);
  const int64_t nb_min = (panels + max_panels - 1) / max_panels;
  const int64_t units = p.batch * nchunks;
  Split best{nb_min, 1};
  double best_cost = 1e300;
  const int64_t max_slices = p.batch == 1 ? std::min<int64_t>(T, nkb / 2) : 1;
  for (int64_t s = 1; s <= std::max<int64_t>(1, max_slices); ++s) {
    for (int64_t nb = nb_min; nb <= std::min(panels, nb_min * 4 + 2 * T); ++nb) {
      const int64_t tasks = units * nb * s;
      const int64_t per_task = (panels + nb - 1) / nb;  // panels, each over all K / s
      const double waves = double((tasks + T - 1) / T);
      double cost = waves * (double(per_task) / double(s) + 0.3);
      // The final reduction adds s partial M x N results: about one add per element, against M * K
      // multiply-adds (vectorised nr wide) per unit of cost.
      if (s > 1) cost += double(s * p.N) * 8.0 / double(p.K * nr);
      if (cost < best_cost - 1e-9) {
        best_cost = cost;
        best = {nb, s};
      }
    }
  }
  return best;
}

}  // namespace

void sgemm_packed(const SgemmProblem& p) {
  if (p.M <= 0 || p.N <= 0 || p.batch <= 0) return;
  const SgemmKernels& kern = gemm_detail::kernels_for(simd_level());
  const int nr = kern.nr;

  std::vector<Tile> tiles;
  std::vector<Chunk> chunks;
  make_tiles(p, kern.mr_max, p.M * p.K <= kPrepackMax ? kMCMaxPrepacked : kMCMax, tiles, chunks);

  if (p.K <= 0) {  // C = bias (+ C): nothing to multiply
    for (const SgemmOutRows& o : p.out)
      for (int64_t b = 0; b < p.batch; ++b)
        for (int64_t m = o.m0; m < o.m1; ++m) {
          float* c = o.c + (m - o.m0) * o.ldc + b * o.batch_stride;
          for (int64_t n = 0; n < p.N; ++n)
            c[n] = (p.accumulate ? c[n] : 0.f) + (p.bias_row ? p.bias_row[m] : 0.f) + (p.bias_col ? p.bias_col[n] : 0.f);
        }
    if (p.finish)
      for (int64_t b = 0; b < p.batch; ++b) p.finish(b, 0, p.M, 0, p.N);
    return;
  }

  const int64_t kc_limit = p.kc_max > 0 ? p.kc_max : p.K >= kDeepK ? kKCDeep : kKC;
  const int64_t nkb = (p.K + kc_limit - 1) / kc_limit;
  const int64_t kc_base = (p.K + nkb - 1) / nkb;
  const bool serial = p.M * p.N * p.K * p.batch <= kSerialMacs;
  const Split split = choose_split(p, int64_t(chunks.size()), nr, nkb, serial);
  const int64_t panels = (p.N + nr - 1) / nr;
  const int64_t nb_panels = (panels + split.nblocks - 1) / split.nblocks;
  const int64_t nblocks = (panels + nb_panels - 1) / nb_panels;
  const int64_t nc_max = nb_panels * nr;
  const int64_t S = split.slices;

  // A packed once for every task when it is reused and small enough. Not when every thread runs at
  // most one task: packing A in each task then costs no time (the threads pack in parallel) and
  // keeps it in the core that reads it, where a prepacked A (packed by the calling thread) has to
  // cross from the other core's L2. Measured on 2 threads, idle machine, matmul 256^2 (2 tasks):
  // the worker's task ran 25% slower than the caller's on the prepacked A; 205 -> 326 GFLOP/s.
  const int64_t ntasks = S * p.batch * int64_t(chunks.size()) * nblocks;
  const bool prepack = p.M * p.K <= kPrepackMax && ntasks > (serial ? 1 : int64_t(num_threads()));
  auto run = [serial](int64_t n, const std::function<void(int64_t)>& fn) {
    if (serial) for (int64_t i = 0; i < n; ++i) fn(i);
    else parallel_tasks(n, fn);
  };
  float* a_all = prepack ? thread_scratch(kScratchPrepackA, p.M * p.K) : nullptr;
  if (prepack) {
    // A small A (a conv's weights) packs faster than the other threads could be woken up.
    auto run_pack = [&](int64_t n, const std::function<void(int64_t)>& fn) {
      if (p.M * p.K <= kSerialPack) for (int64_t i = 0; i < n; ++i) fn(i);
      else run(n, fn);
    };
    run_pack(nkb * int64_t(tiles.size()), [&](int64_t job) {
      const int64_t kb = job / int64_t(tiles.size());
      const Tile& t = tiles[size_t(job % int64_t(tiles.size()))];
      const int64_t k0 = kb * kc_base, kc = std::min(kc_base, p.K - k0);
      p.pack_a(t.m0, t.mr, k0, kc, a_all + k0 * p.M + kc * t.m0);
    });
  }

  // Reduction slices write partial sums, added up (with bias and accumulation) at the end.
  float* partial = S > 1 ? thread_scratch(kScratchPartial, S * p.M * p.N) : nullptr;

  run(ntasks, [&](int64_t task) {
    const int64_t nbk = task % nblocks;
    int64_t rest = task / nblocks;
    const Chunk& ch = chunks[size_t(rest % int64_t(chunks.size()))];
    rest /= int64_t(chunks.size());
    const int64_t b = rest % p.batch;
    const int64_t s = rest / p.batch;
    const int64_t n0 = nbk * nc_max, nc = std::min(nc_max, p.N - n0);
    const int64_t kb0 = nkb * s / S, kb1 = nkb * (s + 1) / S;

    float* bbuf = thread_scratch(kScratchPackB, kc_base * nc_max);
    float* abuf = prepack ? nullptr : thread_scratch(kScratchPackA, kc_base * ch.rows);

    for (int64_t kb = kb0; kb < kb1; ++kb) {
      const int64_t k0 = kb * kc_base, kc = std::min(kc_base, p.K - k0);
      p.pack_b(b, k0, kc, n0, nc, nr, bbuf);
      if (!prepack)
        for (size_t ti = ch.t0; ti < ch.t1; ++ti)
          p.pack_a(tiles[ti].m0, tiles[ti].mr, k0, kc, abuf + kc * (tiles[ti].m0 - ch.m0));
      const bool first = kb == kb0;
      const bool load_c = !first || (S == 1 && p.accumulate);
      const float* brow = first && S == 1 ? p.bias_row : nullptr;
      const float* bcol = first && S == 1 ? p.bias_col : nullptr;
      for (size_t ti = ch.t0; ti < ch.t1; ++ti) {
        const Tile& t = tiles[ti];
        const float* a = prepack ? a_all + k0 * p.M + kc * t.m0 : abuf + kc * (t.m0 - ch.m0);
        float* crow;
        int64_t ldc;
        if (S > 1) {
          crow = partial + (s * p.M + t.m0) * p.N;
          ldc = p.N;
        } else {
          const SgemmOutRows& o = p.out[size_t(t.seg)];
          crow = o.c + (t.m0 - o.m0) * o.ldc + b * o.batch_stride;
          ldc = o.ldc;
        }
        const gemm_detail::MicroKernel k = kern.ukr[t.mr];
        for (int64_t j = 0; j * nr < nc; ++j) {
          const int64_t n = n0 + j * nr;
          k(kc, a, bbuf + j * kc * nr, crow + n, ldc, int(std::min<int64_t>(nr, p.N - n)), load_c,
            brow ? brow + t.m0 : nullptr, bcol ? bcol + n : nullptr);
        }
      }
    }
    if (S == 1 && p.finish) p.finish(b, ch.m0, tiles[ch.t1 - 1].m0 + tiles[ch.t1 - 1].mr, n0, n0 + nc);
  });

  if (S > 1) {
    parallel_for(p.M, std::max<int64_t>(1, 16384 / p.N), [&](int64_t m_lo, int64_t m_hi) {
      for (const SgemmOutRows& o : p.out) {
        for (int64_t m = std::max(m_lo, o.m0); m < std::min(m_hi, o.m1); ++m) {
          float* c = o.c + (m - o.m0) * o.ldc;
          const float br = p.bias_row ? p.bias_row[m] : 0.f;
          for (int64_t n = 0; n < p.N; ++n) {
            float v = br + (p.bias_col ? p.bias_col[n] : 0.f);
            for (int64_t s = 0; s < S; ++s) v += partial[(s * p.M + m) * p.N + n];
            c[n] = p.accumulate ? c[n] + v : v;
          }
        }
      }
      if (p.finish) p.finish(0, m_lo, m_hi, 0, p.N);  // S > 1 only with batch 1
    });
  }
}

// ---- gemm() on strided matrices -------------------------------------------------------------------

namespace {

void sgemm_strided(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                   int64_t ldb, float* C, int64_t ldc, bool accumulate, const float* bias_row, const float* bias_col) {
  SgemmProblem p;
  p.M = M;
  p.N = N;
  p.K = K;
  p.pack_a = [=](int64_t m0, int mr, int64_t k0, int64_t kc, float* dst) {
    if (ta) sgemm_pack_a_cols(A + k0 * lda + m0, lda, mr, kc, dst);
    else sgemm_pack_a_rows(A + m0 * lda + k0, lda, mr, kc, dst);
  };
  p.pack_b = [=](int64_t, int64_t k0, int64_t kc, int64_t n0, int64_t nc, int nr, float* dst) {
    if (tb) sgemm_pack_b_cols(B + n0 * ldb + k0, ldb, kc, nc, nr, dst, 0);
    else sgemm_pack_b_rows(B + k0 * ldb + n0, ldb, kc, nc, nr, dst, 0);
  };
  p.out = {{0, M, C, ldc, 0}};
  p.bias_row = bias_row;
  p.bias_col = bias_col;
  p.accumulate = accumulate;
  sgemm_packed(p);
}

// The float64 reference: rows of C in parallel, plain loops in an order that reads B contiguously.
void dgemm_plain(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const double* A, int64_t lda, const double* B,
                 int64_t ldb, double* C, int64_t ldc, bool accumulate, const double* bias_row, const double* bias_col) {
  const int64_t grain = std::max<int64_t>(1, kSerialMacs / std::max<int64_t>(1, N * K));
  parallel_for(M, grain, [&](int64_t m_lo, int64_t m_hi) {
    std::vector<double> acc(static_cast<size_t>(N));
    for (int64_t m = m_lo; m < m_hi; ++m) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t k = 0; k < K; ++k) {
        const double a = ta ? A[k * lda + m] : A[m * lda + k];
        if (tb) {
          for (int64_t n = 0; n < N; ++n) acc[size_t(n)] += a * B[n * ldb + k];
        } else {
          const double* b = B + k * ldb;
          for (int64_t n = 0; n < N; ++n) acc[size_t(n)] += a * b[n];
        }
      }
      double* c = C + m * ldc;
      for (int64_t n = 0; n < N; ++n) {
        double v = acc[size_t(n)] + (bias_row ? bias_row[m] : 0.0) + (bias_col ? bias_col[n] : 0.0);
        c[n] = accumulate ? c[n] + v : v;
      }
    }
  });
}

}  // namespace

template <>
void gemm<float>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                 int64_t ldb, float* C, int64_t ldc, bool accumulate, const float* bias_row, const float* bias_col) {
  sgemm_strided(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, accumulate, bias_row, bias_col);
}

template <>
void gemm<double>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const double* A, int64_t lda, const double* B,
                  int64_t ldb, double* C, int64_t ldc, bool accumulate, const double* bias_row, const double* bias_col) {
  dgemm_plain(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, accumulate, bias_row, bias_col);
}

}  // namespace mpf::cpu
