// One Adam / AdamW step on one element, written once as a __host__ __device__ function shared by
// the CPU kernel (native/cpu/adam.cc) and the CUDA kernel (native/cuda/adam.cu), with the per-step
// scalars both compute the same way (adam_scalars).
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
// The scalars of step h.step as PyTorch computes them: in double (Python floats), then rounded to T.
// H is cpu::AdamHyper or the CUDA ABI's MpfAdam (the same fields).
template <typename T, typename H>
AdamScalars<T> adam_scalars(const H& h) {
  const double bc1 = 1 - std::pow(h.beta1, double(h.step));
  const double bc2 = 1 - std::pow(h.beta2, double(h.step));
  AdamScalars<T> c;
  c.beta1 = T(h.beta1);
  c.one_minus_beta1 = T(1 - h.beta1);
  c.beta2 = T(h.beta2);
  c.one_minus_beta2 = T(1 - h.beta2);
  c.eps = T(h.eps);
  c.decay = h.decoupled ? T(0) : T(h.weight_decay);
  c.shrink = h.decoupled ? T(1 - h.lr * h.weight_decay) : T(1);
  c.neg_step_size = T(-(h.lr / bc1));
  c.bc2_sqrt = T(std::sqrt(bc2));
  return c;
}

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
