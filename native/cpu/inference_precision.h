// Inference precision: how far a forward convolution may round, per calling thread. Only the
// forward pass of float32 3x3 stride-1 dilation-1 convolutions is affected (conv2d_algo in
// conv2d.cc); gradients, float64 and every other op always run as under Strict.
//   Strict  training's choice: Winograd F(4x4, 3x3) for convolutions that keep or narrow their
//           channels, F(2x2, 3x3) for the rest, so training matches the PyTorch golden files (conv2d_algo).
//   Fp32    F(8x8), F(6x6) or F(4x4) by shape (conv2d_algo): up to 2.6x fewer multiplications
//           than F(2x2), more rounding (still >= 60 dB PSNR against float64 on trained weights;
//           test/inference-precision.test.ts).
//   Bf16    Winograd whose per-point GEMMs take bf16 operands (the transformed inputs V and
//           weights U rounded to nearest even) and accumulate in float32, on AVX512_BF16
//           (vdpbf16ps); Fp32 where the CPU lacks it (bf16_gemm_kernels() is null).
// The setting is thread_local: the op's algorithm is chosen on the calling thread before the
// thread pool runs, so the pool threads need not know it, and a worker_thread (the upscale model
// worker) has its own. Every thread starts at Strict.
#pragma once
#include <cstdint>

#include "cpu/gemm_kernels.h"

namespace mpf::cpu {

enum class InferencePrecision : int { Strict = 0, Fp32 = 1, Bf16 = 2 };

InferencePrecision inference_precision();  // the calling thread's
void set_inference_precision(InferencePrecision p);
const char* inference_precision_name(InferencePrecision p);
// false when `name` is none of strict, fp32, bf16.
bool parse_inference_precision(const char* name, InferencePrecision* out);

// The bf16 GEMM used by the Winograd forward under Bf16 (conv2d_winograd.cc). Packed formats, a
// "pair" being two bf16 in one 32-bit word (depth 2p in the low half, 2p + 1 in the high half;
// an odd depth is padded with a zero):
//   A tile of mr rows, kp pairs deep:     a[p * mr + i]  = pair of A(i, 2p), A(i, 2p + 1)
//   B panel of nr columns, kp pairs deep: b[p * nr + j]  = pair of B(2p, j), B(2p + 1, j)
namespace bf16 {

// C tile (mr x n_valid, row stride ldc) [+]= A tile . B panel, products summed in float32.
using MicroKernel = void (*)(int64_t kp, const uint32_t* a, const uint32_t* b, float* c, int64_t ldc, int n_valid, bool load_c);
// Pairs from a float32 A tile in the SGEMM format (src[kk * mr + i], kc deep), rounded to nearest even.
using PackA = void (*)(const float* src, int mr, int64_t kc, uint32_t* dst);
// Pairs from a float32 B panel in the SGEMM format (src[kk * nr + j], kc deep, nr = Kernels::nr).
using PackB = void (*)(const float* src, int64_t kc, uint32_t* dst);

struct Kernels {
  int mr_max;
  int nr;
  MicroKernel ukr[gemm_detail::kMaxMR + 1];  // ukr[mr] for mr in 1..mr_max
  PackA pack_a;
  PackB pack_b;
};

#if defined(MPF_X86)
const Kernels& kernels_avx512bf16();  // conv2d_winograd_avx512bf16.cc: call only when kernels() is not null
#endif

}  // namespace bf16

// The bf16 kernels when the CPU has AVX512_BF16 and the SIMD level (MPFNET_SIMD, set_simd_level)
// allows AVX-512; null otherwise (Bf16 then runs as Fp32).
const bf16::Kernels* bf16_gemm_kernels();

}  // namespace mpf::cpu
