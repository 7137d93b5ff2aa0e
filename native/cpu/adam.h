// The Adam / AdamW update on CPU, in place (formula in common/adam_math.h).
#pragma once
#include <cstdint>

namespace mpf::cpu {

struct AdamHyper {
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;    // 1-based, as PyTorch's state['step'] after its increment
  bool decoupled;  // AdamW: decay the parameter, not the gradient
};

template <typename T>
void adam_update(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, int64_t n, const AdamHyper& h);

}  // namespace mpf::cpu
