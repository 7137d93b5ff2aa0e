// Live native memory, for leak checks and monitoring.
import { native } from '../bindings/index.js';

export interface MemoryInfo {
  /** Live tensor handles (views count separately). */
  tensors: number;
  /** Live native buffers. */
  storages: number;
  /** Bytes held by live CPU buffers. */
  bytes: number;
  /** Bytes held by live CUDA buffers. */
  cudaBytes: number;
}

export function memory(): MemoryInfo {
  return native.memory();
}

/** The CPU thread pool's size (MPFNET_NUM_THREADS or the CPUs available). */
export function getNumThreads(): number {
  return native.numThreads();
}
export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}
/** The vector instruction set the CPU kernels use: 'avx512', 'avx2' or 'scalar'. */
export function simdLevel(): string {
  return native.simd();
}
