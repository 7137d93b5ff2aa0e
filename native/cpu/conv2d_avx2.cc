// conv2d implicit-GEMM packing (cpu/simd/conv2d_pack.h) for AVX2 (compiled with -mavx2; entered
// only when simd_level() says so): 16-pixel panels.
#include "cpu/simd/conv2d_pack.h"
#include "cpu/simd/vec_avx2.h"

namespace mpf::cpu::conv2d_detail {

void pack_col_panels_avx2(const ColPanels& p) { simd::pack_col_panels<simd::VecAvx2, 2>(p); }

}  // namespace mpf::cpu::conv2d_detail
