// What the upscale thread (upscale.ts) and its model worker (upscale-worker.ts) say to each other.
// Types only, so the worker's import graph stays small (no sharp, no CLI).
import type { MPFNetConfig } from '../models/mpfnet/config.js';
import type { SerializedError } from '../workers/errors.js';
import type { BaseWorkerData } from '../workers/spawn.js';
import type { InferencePrecision } from './precision.js';

/** Where the worker gets its model: a checkpoint file, or weights copied from a live model. */
export type ModelSpec =
  | { kind: 'file'; path: string; weights: 'model' | 'ema' }
  | { kind: 'weights'; config: MPFNetConfig; tensors: [name: string, shape: number[], data: Float32Array][] };

export interface UpscaleWorkerData extends BaseWorkerData {
  // signal's Int32 slots: [0] a message counter (the bootstrap bumps it when it reports a failed
  // start), [1] the cancel flag the worker polls between blocks of the network.
  model: ModelSpec;
  device: 'cpu' | 'cuda';
  /** The worker thread's inference precision (already 'fp32' where 'bf16' cannot run). */
  precision: InferencePrecision;
  /** On cuda: replay each tile shape's pass as a CUDA graph (lib/cuda.ts CudaGraph). */
  cudaGraph: boolean;
}

export const CANCEL_SLOT = 1;

/** How the alpha plane of a tile is upscaled. */
export type AlphaMode = 'bicubic' | 'model';

export interface TileJob {
  type: 'tile';
  id: number;
  height: number;
  width: number;
  /** Planar RGB in [0, 1], 3 × height × width. */
  rgb: Float32Array;
  /** Alpha plane (height × width) or null. */
  alpha: Float32Array | null;
  alphaMode: AlphaMode;
  /** Return one luma plane instead of RGB (grey images). */
  grey: boolean;
}

export type ToWorker = TileJob | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; scale: 2 | 3 | 4; config: MPFNetConfig }
  /** Planar output: the colour planes (1 or 3) then alpha, each (scale·height) × (scale·width). */
  | { type: 'result'; id: number; data: Float32Array }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'cancelled'; id: number }
  | { type: 'fatal'; error: SerializedError }
  | { type: 'closed' };
