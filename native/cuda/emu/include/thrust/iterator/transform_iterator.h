// CPU emulation: thrust::make_transform_iterator, only operator[].
#pragma once
namespace thrust {
template <typename It, typename F>
struct transform_iterator {
  It it;
  F f;
  template <typename I>
  auto operator[](I i) const { return f(it[i]); }
};
template <typename It, typename F>
transform_iterator<It, F> make_transform_iterator(It it, F f) {
  return transform_iterator<It, F>{it, f};
}
}  // namespace thrust
