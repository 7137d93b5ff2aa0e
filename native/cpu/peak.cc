// The machine-peak measurement (cpu/peak.h): each pool thread runs the peak loop of the current
// SIMD level in short chunks until a shared deadline; the rate is all flops over the time from the
// common start to the last thread's finish.
#include "cpu/peak.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

#include "common/cpu_features.h"
#include "common/thread_pool.h"
#include "cpu/simd/peak.h"
#include "cpu/simd/vec_portable.h"

namespace mpf::cpu {

float peak_fp32_portable(int64_t iters, double* flops_per_round) {
  *flops_per_round = 2.0 * 12 * simd::VecPortable::kWidth;
  return simd::fma_rounds<simd::VecPortable, 12>(iters);
}

namespace {

using Clock = std::chrono::steady_clock;
using Loop = float (*)(int64_t, double*);

// Keeps the loops' results observable, so the compiler cannot drop them.
std::atomic<float> g_sink{0.0f};

double measure(Loop loop, double ms) {
  constexpr int64_t kChunk = 20000;  // rounds between clock reads: ~50 us on one core
  const int threads = num_threads();
  std::vector<double> flops(static_cast<size_t>(threads), 0.0);
  std::vector<Clock::time_point> end(static_cast<size_t>(threads));
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + std::chrono::microseconds(int64_t(ms * 1000.0));
  parallel_tasks(threads, [&](int64_t t) {
    double per_round = 0, total = 0;
    float sink = 0;
    do {
      sink += loop(kChunk, &per_round);
      total += per_round * double(kChunk);
    } while (Clock::now() < deadline);
    flops[size_t(t)] = total;
    end[size_t(t)] = Clock::now();
    g_sink.store(sink, std::memory_order_relaxed);
  });
  double all = 0;
  Clock::time_point last = start;
  for (int t = 0; t < threads; ++t) {
    all += flops[size_t(t)];
    last = std::max(last, end[size_t(t)]);
  }
  const double seconds = std::chrono::duration<double>(last - start).count();
  return seconds > 0 ? all / seconds / 1e9 : 0.0;
}

#if defined(MPF_X86)
bool has_avx512bf16() {
  __builtin_cpu_init();
  return simd_level() == Simd::AVX512 && __builtin_cpu_supports("avx512bf16");
}
#endif

}  // namespace

PeakResult peak_gflops(double ms) {
  Loop fp32 = &peak_fp32_portable;
  const Simd level = simd_level();
#if defined(MPF_X86)
  if (level == Simd::AVX512) fp32 = &peak_fp32_avx512;
  else if (level == Simd::AVX2) fp32 = &peak_fp32_avx2;
#elif defined(MPF_NEON)
  if (level == Simd::Neon) fp32 = &peak_fp32_neon;
#endif
  PeakResult r{};
  r.threads = num_threads();
  r.isa = simd_name(level);
  r.fp32_gflops = measure(fp32, ms);
#if defined(MPF_X86)
  if (has_avx512bf16()) r.bf16_gflops = measure(&peak_bf16_avx512bf16, ms);
#endif
  return r;
}

}  // namespace mpf::cpu
