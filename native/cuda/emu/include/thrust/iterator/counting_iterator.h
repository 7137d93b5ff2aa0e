// CPU emulation: thrust::counting_iterator, only operator[].
#pragma once
namespace thrust {
template <typename T>
struct counting_iterator {
  T start;
  explicit counting_iterator(T s) : start(s) {}
  T operator[](T i) const { return start + i; }
};
}  // namespace thrust
