// Aligned heap blocks on every platform the addon may be built on. std::aligned_alloc is C++17 but
// MSVC's C runtime has none (its blocks must go back through _aligned_free, never free()), and older
// macOS SDKs hide it; posix_memalign is everywhere else. Blocks from aligned_malloc must be released
// with aligned_free.
#pragma once

#include <cstddef>
#include <cstdlib>

#if defined(_WIN32)
#include <malloc.h>
#endif

namespace mpf {

/** bytes (rounded up to a multiple of alignment) aligned to alignment (a power of two >= sizeof(void*));
 * nullptr when out of memory. */
inline void* aligned_malloc(size_t alignment, size_t bytes) {
  const size_t rounded = (bytes + alignment - 1) / alignment * alignment;
#if defined(_WIN32)
  return _aligned_malloc(rounded == 0 ? alignment : rounded, alignment);
#else
  void* p = nullptr;
  return posix_memalign(&p, alignment, rounded == 0 ? alignment : rounded) == 0 ? p : nullptr;
#endif
}

/** Releases a block from aligned_malloc (nullptr is fine). */
inline void aligned_free(void* p) {
#if defined(_WIN32)
  _aligned_free(p);
#else
  std::free(p);
#endif
}

}  // namespace mpf
