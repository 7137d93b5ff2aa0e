// Winograd tile kernels compiled for AVX2 + FMA (entered only when simd_level() says so): the
// portable templates of conv2d_winograd_kernels.h with 8-lane vectors, one ymm register each.
#include "cpu/conv2d_winograd_kernels.h"
#include "cpu/simd/vec_avx2.h"

namespace mpf::cpu::winograd {

const TileKernels<float>& tile_kernels_avx2() {
  static const TileKernels<float> k = [] {
    TileKernels<float> t = make_tile_kernels<float, 8, InlineSelu<simd::VecAvx2>>();
    t.taps = &taps_simd<simd::VecAvx2>;
    return t;
  }();
  return k;
}

}  // namespace mpf::cpu::winograd
