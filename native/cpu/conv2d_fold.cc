#include "cpu/conv2d_fold.h"

namespace mpf::cpu {

template <typename T>
void conv2d_fold_input_scales(const T* w, const T* s, T* out, int64_t out_channels, int64_t in_channels, int64_t taps) {
  for (int64_t o = 0; o < out_channels; ++o)
    for (int64_t i = 0; i < in_channels; ++i) {
      const int64_t at = (o * in_channels + i) * taps;
      for (int64_t k = 0; k < taps; ++k) out[at + k] = w[at + k] * s[i];
    }
}

template void conv2d_fold_input_scales<float>(const float*, const float*, float*, int64_t, int64_t, int64_t);
template void conv2d_fold_input_scales<double>(const double*, const double*, double*, int64_t, int64_t, int64_t);

}  // namespace mpf::cpu
