// The CUDA backend from JS: whether it can be used here (and why not), and its few controls. The
// kernels live in a plugin (mpfnet_cuda.so next to the addon) that is loaded on the first use of
// device 'cuda': tensors created with {device: 'cuda'} or moved with .to('cuda') run every op there.
import { native } from '../bindings/index.js';
import { keep, noGrad, tidy } from './autograd/scope.js';
import { Tensor } from './tensor.js';
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

/**
 * One function of one input shape as a CUDA graph: its GPU work recorded once, then replayed with a
 * single launch per call (like `torch.cuda.CUDAGraph`). A 256² MPF-Net pass is about 660 ops, each
 * costing the host tens to a hundred-odd microseconds (N-API, argument checks, cuDNN's call); a replay
 * costs one launch, so the GPU no longer waits on the host between ops.
 *
 * The graph keeps its own input and output tensors: `run(x)` copies x into the input, replays, and
 * returns the output tensor, which the next `run` overwrites (read or copy it before then). Everything
 * else fn reads (a model's weights) is read at replay time from the same memory: keep those tensors
 * alive, and change them only in place, while the graph lives. fn must run wholly on the GPU: an op
 * that waits for it or copies to the host makes `capture` fail with that reason.
 */
export class CudaGraph {
  #id: number;
  readonly input: Tensor;
  readonly output: Tensor;

  private constructor(id: number, input: Tensor, output: Tensor) {
    this.#id = id;
    this.input = input;
    this.output = output;
  }

  /**
   * Run fn once on a copy of `example` (cuDNN's algorithm searches wait for the GPU, so they must
   * happen before recording; the allocator then holds blocks of every size the pass needs), then
   * record a second run. The tape is off in both.
   */
  static capture(fn: (x: Tensor) => Tensor, example: Tensor): CudaGraph {
    if (typeof fn !== 'function') throw new TypeError(`CudaGraph.capture: 'fn' must be a function, got ${typeof fn}`);
    if (!(example instanceof Tensor)) throw new TypeError("CudaGraph.capture: 'example' must be a Tensor");
    if (example.device !== 'cuda') throw new TypeError(`CudaGraph.capture: 'example' must be on device 'cuda', got '${example.device}'`);
    const input = keep(example.astype(example.dtype));
    let output: Tensor | undefined;
    try {
      noGrad(() => tidy(() => void fn(input)));
      native.cudaGraphBegin();
      try {
        output = keep(noGrad(() => tidy(() => fn(input))));
        if (!(output instanceof Tensor) || output.device !== 'cuda') throw new TypeError('CudaGraph.capture: fn must return a tensor on device cuda');
      } catch (e) {
        if (e instanceof Error) e.message = `CudaGraph.capture: while recording fn: ${e.message}`;
        // End the capture whatever happened; a graph that did get made is not wanted.
        try {
          native.cudaGraphDestroy(native.cudaGraphEnd());
        } catch {
          /* the capture was discarded */
        }
        throw e;
      }
      return new CudaGraph(native.cudaGraphEnd(), input, output);
    } catch (e) {
      if (output instanceof Tensor) output.dispose();
      input.dispose();
      throw e;
    }
  }

  /** Copy x (the example's shape and dtype, on cuda) into the input, when given, and replay; returns `output`. */
  run(x?: Tensor): Tensor {
    if (this.#id === 0) throw new Error('CudaGraph.run: the graph was disposed');
    if (x !== undefined && !(x instanceof Tensor)) throw new TypeError("CudaGraph.run: 'x' must be a Tensor");
    native.cudaGraphLaunch(this.#id, x ? this.input.handle : null, x ? x.handle : null);
    return this.output;
  }

  /** Free the graph, its input and output, and the memory it kept reserved. Safe to call twice. */
  dispose(): void {
    if (this.#id === 0) return;
    const id = this.#id;
    this.#id = 0;
    native.cudaGraphDestroy(id);
    this.output.dispose();
    this.input.dispose();
  }
}
