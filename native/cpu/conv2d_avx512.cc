// conv2d implicit-GEMM packing (cpu/simd/conv2d_pack.h) for AVX-512 (compiled with -mavx512*;
// entered only when simd_level() says so): 32-pixel panels, and the contiguous column runs.
#include "cpu/simd/conv2d_pack.h"
#include "cpu/simd/vec_avx512.h"

namespace mpf::cpu::conv2d_detail {

void pack_col_panels_avx512(const ColPanels& p) { simd::pack_col_panels<simd::VecAvx512, 2>(p); }

void col_run_avx512(const ColRun& r, int64_t oh, int64_t ow, int64_t count, float* out) { simd::col_run<simd::VecAvx512>(r, oh, ow, count, out); }

}  // namespace mpf::cpu::conv2d_detail
