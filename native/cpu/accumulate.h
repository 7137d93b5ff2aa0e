// In-place accumulation y += alpha * x (gradient accumulation on the tape and in optimisers).
#pragma once
#include <cstdint>

namespace mpf::cpu {

template <typename T>
void axpy_inplace(T* y, const T* x, T alpha, int64_t n);

}  // namespace mpf::cpu
