// conv2d implicit-GEMM packing (cpu/simd/conv2d_pack.h) for aarch64 NEON (compiled on aarch64
// only): 16-pixel panels.
#include "cpu/simd/conv2d_pack.h"
#include "cpu/simd/vec_neon.h"

namespace mpf::cpu::conv2d_detail {

void pack_col_panels_neon(const ColPanels& p) { simd::pack_col_panels<simd::VecNeon, 4>(p); }

}  // namespace mpf::cpu::conv2d_detail
