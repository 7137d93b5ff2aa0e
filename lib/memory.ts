// Live native memory, for leak checks and monitoring.
import { native } from '../bindings/index.js';

/** Live tensors and bytes, and the allocators' caches. */
export interface MemoryInfo {
  /** Live tensor handles (views count separately). */
  tensors: number;
  /** Live native buffers. */
  storages: number;
  /** Bytes held by live CPU buffers. */
  bytes: number;
  /** Bytes held by live CUDA buffers. */
  cudaBytes: number;
  /** Bytes of freed CPU buffers the allocator keeps for reuse (not counted in `bytes`). */
  cachedBytes: number;
  /** Bytes of freed GPU blocks the CUDA allocator keeps for reuse (0 until the CUDA plugin is loaded). */
  cudaCachedBytes: number;
}

/** Counts of live tensors, storages and bytes (CPU and CUDA) and the cached bytes. */
export function memory(): MemoryInfo {
  return native.memory();
}

/** Return the allocators' cached blocks to the system and the GPU (cachedBytes and cudaCachedBytes drop to 0). */
export function emptyCache(): void {
  native.emptyCache();
}

/** The CPU thread pool's size (MPFNET_NUM_THREADS or the CPUs available). */
export function getNumThreads(): number {
  return native.numThreads();
}
/** Resize the native CPU thread pool to `n` threads. */
export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}
/** The vector instruction set the CPU kernels use: 'avx512', 'avx2' or 'scalar'. */
export function simdLevel(): string {
  return native.simd();
}
