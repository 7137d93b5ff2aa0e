// The L1 loss on CPU (PyTorch's l1_loss with reduction 'mean' or 'sum').
#pragma once
#include <cstdint>

namespace mpf::cpu {

// sum |pred - target| over n elements, accumulated in double (the caller scales for 'mean').
template <typename T>
double l1_sum(const T* pred, const T* target, int64_t n);

// gp = scale * sign(pred - target) (0 where equal), gt = -gp; either output may be null.
template <typename T>
void l1_backward(const T* pred, const T* target, T scale, T* gp, T* gt, int64_t n);

}  // namespace mpf::cpu
