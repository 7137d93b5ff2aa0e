// The caching device allocator. cudaMalloc and cudaFree are slow and cudaFree synchronises the
// device, while a training step allocates the same sizes every time: freed blocks go to free lists
// by size class and are handed out again; cudaMalloc runs only on a miss. With one stream, a block
// freed while kernels that use it are still queued is safe to hand out at once: whatever uses it
// next is queued behind them.
//
// Sizes are rounded to classes (512 B steps up to 1 MiB, 128 KiB steps up to 16 MiB, 2 MiB steps
// above) so that slightly different sizes share blocks; a request may also take a cached block up
// to 1/8 larger than its class. On cudaMalloc failure the cache is returned to the device and the
// call retried once before reporting out-of-memory.
//
// CUDA graphs (graph.cu) get a private pool: a replay writes to the addresses its capture used, so
// a block that a capture allocates or frees, or that is live when it starts (it may read it),
// belongs to that graph until it is destroyed. Freed, it waits in the graph's own free list (reused
// by the same capture, never handed to other work or returned to the device); still held by a
// tensor (the graph's output, a model's weights), it goes to that list when the tensor is freed.
#include <map>
#include <mutex>
#include <unordered_map>

#include "cuda/common.cuh"

namespace mpf::cuda {
namespace {

size_t size_class(size_t b) {
  auto up = [](size_t v, size_t step) { return (v + step - 1) / step * step; };
  if (b <= (size_t(1) << 20)) return up(b < 512 ? 512 : b, 512);
  if (b <= (size_t(16) << 20)) return up(b, size_t(128) << 10);
  return up(b, size_t(2) << 20);
}

class CachingAllocator {
 public:
  // Returns nullptr and sets err on failure; never throws.
  void* alloc(size_t bytes, std::string& err) {
    const size_t cls = size_class(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    // While capturing: the graph's own free blocks first, then the common cache (the block joins the graph).
    if (capture_) {
      if (void* p = take_cached(graph_free_[capture_], cls)) return p;
    }
    if (void* p = take_cached(free_, cls)) {
      if (capture_) owned_[p] = capture_;
      return p;
    }
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, cls);
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      release_cached_locked();
      e = cudaMalloc(&p, cls);
    }
    if (e != cudaSuccess) {
      cudaGetLastError();
      size_t dev_free = 0, dev_total = 0;
      cudaMemGetInfo(&dev_free, &dev_total);
      cudaGetLastError();
      err = str(e == cudaErrorMemoryAllocation ? MPF_CUDA_OOM_PREFIX : "cudaMalloc failed", ": tried to allocate ", bytes,
                " bytes (", cudaGetErrorString(e), "); this process holds ", allocated_, " bytes in tensors and ", cached_,
                " cached, the device has ", dev_free, " of ", dev_total, " bytes free");
      return nullptr;
    }
    ++mallocs_;
    live_[p] = cls;
    allocated_ += int64_t(cls);
    if (capture_) owned_[p] = capture_;
    return p;
  }

  void free(void* p) {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) return;  // not ours: ignore rather than corrupt the lists
    auto own = owned_.find(p);
    if (own == owned_.end() && capture_) own = owned_.emplace(p, capture_).first;  // the capture read it: keep it
    (own == owned_.end() ? free_ : graph_free_[own->second]).emplace(it->second, p);
    allocated_ -= int64_t(it->second);
    cached_ += int64_t(it->second);
    live_.erase(it);
  }

  // Waits for the stream (a cached block may still be in use by queued kernels), then frees.
  cudaError_t empty() {
    std::lock_guard<std::mutex> lock(mu_);
    return release_cached_locked();
  }

  // Blocks of graph `id` are reserved from now on (id 0: capture over). The blocks live when the
  // capture starts join the graph too (those no earlier graph holds): the recording may read any of
  // them (a model's weights), so freeing one must not hand it to other work or back to the device,
  // where a replay would read another tensor's data or fault on an unmapped address.
  void capture(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    capture_ = id;
    if (id)
      for (auto& [p, size] : live_) owned_.emplace(p, id);
  }

  // The graph is gone: its free blocks go to the common cache, its live ones return there when freed.
  void release_graph(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto g = graph_free_.find(id);
    if (g != graph_free_.end()) {
      free_.insert(g->second.begin(), g->second.end());
      graph_free_.erase(g);
    }
    for (auto it = owned_.begin(); it != owned_.end();) it = it->second == id ? owned_.erase(it) : std::next(it);
  }

  void stats(MpfCudaMemory& m) {
    std::lock_guard<std::mutex> lock(mu_);
    m.allocated = allocated_;
    m.cached = cached_;
    m.mallocs = mallocs_;
  }

 private:
  // A cached block of this class (or up to 1/8 larger) from `list`, now live; nullptr if none.
  void* take_cached(std::multimap<size_t, void*>& list, size_t cls) {
    auto it = list.lower_bound(cls);
    if (it == list.end() || it->first > cls + cls / 8) return nullptr;
    void* p = it->second;
    live_[p] = it->first;
    allocated_ += int64_t(it->first);
    cached_ -= int64_t(it->first);
    list.erase(it);
    return p;
  }

  cudaError_t release_cached_locked() {
    cudaError_t first = cudaStreamSynchronize(stream());
    for (auto& [size, p] : free_) {
      cudaError_t e = cudaFree(p);
      if (first == cudaSuccess) first = e;
    }
    free_.clear();
    cached_ = 0;  // what graphs keep reserved stays cached
    for (auto& [id, list] : graph_free_)
      for (auto& [size, p] : list) cached_ += int64_t(size);
    return first;
  }

  std::mutex mu_;
  std::multimap<size_t, void*> free_;      // class size -> cached block
  std::unordered_map<void*, size_t> live_;  // block -> class size
  int64_t capture_ = 0;                                        // the graph being captured, or 0
  std::unordered_map<void*, int64_t> owned_;                   // block -> the graph it belongs to
  std::map<int64_t, std::multimap<size_t, void*>> graph_free_;  // graph -> its free blocks
  int64_t allocated_ = 0, cached_ = 0, mallocs_ = 0;
};

// Never destroyed: tensors freed during process exit still find it (and no CUDA call happens on
// free, so a torn-down runtime does not matter).
CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();
  return *a;
}

}  // namespace

void* device_alloc(size_t bytes) {
  std::string err;
  void* p = allocator().alloc(bytes, err);
  if (!p) throw CudaError(err);
  return p;
}

void device_free(void* p, size_t) { allocator().free(p); }

void allocator_capture(int64_t id) { allocator().capture(id); }
void allocator_release_graph(int64_t id) { allocator().release_graph(id); }

MpfErr api_alloc(size_t bytes, void** out) {
  std::string err;
  *out = allocator().alloc(bytes, err);
  return *out ? nullptr : fail(err);
}

void api_free(void* p, size_t) { allocator().free(p); }

MpfErr api_memory(MpfCudaMemory* m) {
  *m = MpfCudaMemory{};
  allocator().stats(*m);
  size_t f = 0, t = 0;
  cudaError_t e = cudaMemGetInfo(&f, &t);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return fail(str("cudaMemGetInfo: ", cudaGetErrorString(e)));
  }
  m->device_free = int64_t(f);
  m->device_total = int64_t(t);
  return nullptr;
}

MpfErr api_empty_cache() {
  cudaError_t e = allocator().empty();
  if (e != cudaSuccess) {
    cudaGetLastError();
    return fail(str("emptyCache: ", cudaGetErrorString(e)));
  }
  return nullptr;
}

}  // namespace mpf::cuda
