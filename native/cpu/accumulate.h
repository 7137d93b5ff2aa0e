// In-place accumulation: y += alpha * x (gradient accumulation on the tape and in optimisers) and
// y = y · s + x per plane (inference's residual sums).
#pragma once
#include <cstdint>

namespace mpf::cpu {

template <typename T>
void axpy_inplace(T* y, const T* x, T alpha, int64_t n);

// y = y · s[p] + x for each plane p of hw elements (y, x: planes × hw; s: planes). Inference sums a
// block's output into its level this way with the squeeze-excitation's scale still unapplied
// (lib/models/mpfnet/cpb.ts): the same memory streams as axpy_inplace, and the scaling pass is gone.
template <typename T>
void scale_add_inplace(T* y, const T* s, const T* x, int64_t planes, int64_t hw);

}  // namespace mpf::cpu
