// The CUDA backend from JS: whether it can be used here (and why not), and its few controls. The
// kernels live in a plugin (mpfnet_cuda.so next to the addon) that is loaded on the first use of
// device 'cuda': tensors created with {device: 'cuda'} or moved with .to('cuda') run every op there.
import { native } from '../bindings/index.js';
import type { CudaOptions, CudaStatusInfo } from '../bindings/native.js';

export type { CudaOptions, CudaStatusInfo } from '../bindings/native.js';

/**
 * Whether device 'cuda' works in this process: {available, reason, device, driver, runtime, cudnn, …}.
 * The first call loads the plugin and initialises the GPU; the answer does not change afterwards.
 */
export function cudaAvailable(): CudaStatusInfo {
  return native.cudaAvailable();
}

/** Wait until every queued GPU operation has finished (for timing; ops that read data wait anyway). */
export function cudaSynchronize(): void {
  native.cudaSynchronize();
}

/** The CUDA caching allocator: bytes held by tensors, spare cached bytes, the device's free and total memory. */
export function cudaMemory(): { allocated: number; cached: number; deviceFree: number; deviceTotal: number; mallocs: number } {
  return native.cudaMemory();
}

/** Change CUDA options (TF32 for convolutions, the convolution engine, per-op synchronisation); returns those in force. */
export function cudaOptions(changes: Partial<CudaOptions> = {}): CudaOptions & { engine: string } {
  return native.cudaOptions(changes);
}
