// One Adam / AdamW step on one element, written once as a __host__ __device__ function shared by
// the CPU kernel (native/cpu/adam.cc) and the future CUDA kernel (native/cuda/adam.cu).
#pragma once
#include <cmath>

#include "common/unary_math.h"  // MPF_HD

namespace mpf {

// One Adam step on one element (PyTorch's torch.optim.Adam / AdamW, single-tensor path).
// Scalars are computed once by the caller in double: c.decay is the L2 term (Adam) or 0, c.shrink
// is 1 - lr * weight_decay (AdamW) or 1, c.neg_step_size = -lr / (1 - beta1^t), c.bc2_sqrt =
// sqrt(1 - beta2^t).
template <typename T>
struct AdamScalars {
  T beta1, one_minus_beta1, beta2, one_minus_beta2, eps, decay, shrink, neg_step_size, bc2_sqrt;
};
template <typename T>
MPF_HD void adam_step(T& p, T g, T& m, T& v, const AdamScalars<T>& c) {
  g = g + c.decay * p;  // grad.add(param, alpha=weight_decay); decay is 0 for AdamW
  p = p * c.shrink;     // param.mul_(1 - lr * weight_decay); shrink is 1 for Adam
  m = m * c.beta1 + c.one_minus_beta1 * g;
  v = v * c.beta2 + c.one_minus_beta2 * g * g;
  const T denom = std::sqrt(v) / c.bc2_sqrt + c.eps;
  p = p + (c.neg_step_size * m) / denom;  // param.addcdiv_(exp_avg, denom, value=-step_size)
}

}  // namespace mpf
