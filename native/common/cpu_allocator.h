// The CPU allocator behind every tensor: 64-byte aligned blocks, with a cache of freed blocks by
// size class. Training allocates the same shapes every step; reusing blocks avoids the page
// faults (and zeroing by the kernel) that fresh large mallocs cost on every step. The cache is
// bounded (MPFNET_CPU_CACHE_MB, default 2048; 0 disables it) and can be emptied at any time.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mpf {

void* cpu_cached_alloc(size_t bytes);
void cpu_cached_free(void* p, size_t bytes);
// Bytes held in the cache (not in use by any tensor).
int64_t cpu_cache_bytes();
// Return every cached block to the system.
void cpu_cache_empty();

}  // namespace mpf
