// Measured arithmetic peak of this machine (native/cpu/peak.cc): the reference that benchmarks
// report their "% of peak" against. fp32: FMA on the widest vectors simd_level() allows, >= 12
// independent accumulators per thread, every pool thread busy. bf16: AVX512_BF16 vdpbf16ps where
// the CPU has it (each instruction: 32 bf16 products accumulated into 16 floats).
#pragma once
#include <cstdint>

namespace mpf::cpu {

struct PeakResult {
  double fp32_gflops;  // fused multiply-add counted as 2 flops
  double bf16_gflops;  // 0 when the CPU has no AVX512_BF16
  int threads;
  const char* isa;  // the vector type the fp32 loop ran on
};

// Runs each loop for about `ms` milliseconds on every pool thread.
PeakResult peak_gflops(double ms);

// Per-ISA loops: run `iters` rounds, return a value derived from the accumulators; *flops_per_round
// receives the flops one round performs.
float peak_fp32_portable(int64_t iters, double* flops_per_round);
float peak_fp32_avx2(int64_t iters, double* flops_per_round);
float peak_fp32_avx512(int64_t iters, double* flops_per_round);
float peak_fp32_neon(int64_t iters, double* flops_per_round);
float peak_bf16_avx512bf16(int64_t iters, double* flops_per_round);

}  // namespace mpf::cpu
