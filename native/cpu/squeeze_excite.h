// Fused squeeze-and-excitation on CPU (lib/nn/squeeze-excite.ts, docs/model.md §1):
//   m = mean of x over H·W  ;  s = sigmoid(fc2(relu(fc1(m))))  ;  y = x · s per channel
// in three passes instead of the composite's mean / linear / relu / linear / sigmoid / mul ops.
// x (n, c, hw); w1 (hidden, c), b1 (hidden), w2 (c, hidden), b2 (c); biases may be null.
#pragma once
#include <cstdint>

namespace mpf::cpu {

struct SqueezeExcite {
  int64_t n, c, hidden, hw;
};

// Elements of scratch se_backward needs: gs, s, gm (n·c each), pre-activations and their
// gradients (n·hidden each).
inline int64_t se_scratch_elements(const SqueezeExcite& s) { return s.n * (3 * s.c + 2 * s.hidden); }

template <typename T>
void se_pool(const T* x, T* m, int64_t n, int64_t c, int64_t hw);
// The channel scales s (n, c) from the means m (n, c) alone: inference folds them into what reads the
// block's output (lib/models/mpfnet/cpb.ts) instead of scaling the map.
template <typename T>
void se_scales(const SqueezeExcite& s, const T* w1, const T* b1, const T* w2, const T* b2, const T* m, T* sc);
template <typename T>
void se_excite(const SqueezeExcite& s, const T* w1, const T* b1, const T* w2, const T* b2, const T* x, const T* m, T* y);
// Null gradients are skipped; scratch holds se_scratch_elements(s) elements.
template <typename T>
void se_backward(const SqueezeExcite& s, const T* w1, const T* b1, const T* w2, const T* b2, const T* x, const T* m,
                 const T* gy, T* gx, T* gw1, T* gb1, T* gw2, T* gb2, T* scratch);

}  // namespace mpf::cpu
