#include "common/cpu_allocator.h"

#include "common/aligned_memory.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace mpf {
namespace {

// Size classes: multiples of 64 bytes below 4 KiB, then four classes per power of two, so a
// block is at most 25% larger than asked and similar shapes share classes.
size_t size_class(size_t bytes) {
  if (bytes <= 4096) return bytes == 0 ? 64 : (bytes + 63) / 64 * 64;
  size_t p = 4096;
  while (p * 2 < bytes) p *= 2;  // p < bytes <= 2p
  const size_t step = p / 4;
  return (bytes + step - 1) / step * step;
}

int64_t cache_limit() {
  static const int64_t limit = [] {
    const char* env = std::getenv("MPFNET_CPU_CACHE_MB");
    long long mb = env ? std::atoll(env) : 2048;
    return int64_t(mb < 0 ? 0 : mb) << 20;
  }();
  return limit;
}

struct Cache {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;
  int64_t bytes = 0;
};
Cache& cache() {
  static Cache* c = new Cache();  // leaked: blocks may be freed during static destruction
  return *c;
}

}  // namespace

void* cpu_cached_alloc(size_t bytes) {
  const size_t cls = size_class(bytes);
  {
    Cache& c = cache();
    std::lock_guard<std::mutex> lk(c.mu);
    auto it = c.free_blocks.find(cls);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.bytes -= int64_t(cls);
      return p;
    }
  }
  void* p = aligned_malloc(64, cls);
  if (!p) {
    cpu_cache_empty();  // memory may be sitting in the cache: give it back and retry once
    p = aligned_malloc(64, cls);
    if (!p) throw std::bad_alloc();
  }
  return p;
}

void cpu_cached_free(void* p, size_t bytes) {
  if (!p) return;
  const size_t cls = size_class(bytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lk(c.mu);
    // One block may not take more than a quarter of the cache, so a single huge tensor does not
    // pin memory for the rest of the process.
    if (c.bytes + int64_t(cls) <= cache_limit() && int64_t(cls) * 4 <= cache_limit()) {
      c.free_blocks[cls].push_back(p);
      c.bytes += int64_t(cls);
      return;
    }
  }
  aligned_free(p);
}

int64_t cpu_cache_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lk(c.mu);
  return c.bytes;
}

void cpu_cache_empty() {
  std::vector<void*> all;
  {
    Cache& c = cache();
    std::lock_guard<std::mutex> lk(c.mu);
    for (auto& [cls, v] : c.free_blocks) all.insert(all.end(), v.begin(), v.end());
    c.free_blocks.clear();
    c.bytes = 0;
  }
  for (void* p : all) aligned_free(p);
}

}  // namespace mpf
