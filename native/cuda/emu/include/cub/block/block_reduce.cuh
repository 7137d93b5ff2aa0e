// CPU emulation of cub::BlockReduce (sum): the result is valid in thread 0, as with CUB.
#pragma once
namespace cub {
template <typename T, int THREADS>
class BlockReduce {
 public:
  struct TempStorage {
    T v[THREADS];
  };
  explicit BlockReduce(TempStorage& t) : t_(t) {}
  T Sum(T x) {
    t_.v[threadIdx.x] = x;
    __syncthreads();
    T s = T(0);
    if (threadIdx.x == 0)
      for (unsigned i = 0; i < blockDim.x; ++i) s += t_.v[i];
    __syncthreads();
    return s;
  }

 private:
  TempStorage& t_;
};
}  // namespace cub
