// Training checkpoints: one safetensors file per checkpoint, out/checkpoints/iter-<n>.safetensors,
// written atomically. Tensors: "model.<name>" (weights), "ema.<name>" (averaged weights, when an
// EMA runs), "adam.exp_avg.<name>" and "adam.exp_avg_sq.<name>" (moments of parameters that have
// been stepped). __metadata__: format "mpfnet-train", the model config, and "state": JSON of
// everything else a bitwise-exact resume needs (iteration, per-parameter Adam steps, schedule
// position, EMA update count, data position, generator state, elapsed time).
// loadModel() reads these files too (the "model." or "ema." weights).
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors, type TensorData, type TensorRecord } from '../io/safetensors.js';
import type { MPFNet } from '../models/mpfnet/mpfnet.js';
import { configToJson, resolveModelConfig, type MPFNetConfig } from '../models/mpfnet/config.js';
import type { Adam } from '../optim/adam.js';
import type { EMA } from '../optim/ema.js';
import type { GeneratorState } from '../random.js';
import type { Tensor } from '../tensor.js';

export const TRAIN_CHECKPOINT_FORMAT = 'mpfnet-train';

/** The training position a checkpoint records (docs/training.md, "Checkpoints"). */
export interface TrainState {
  /** Iterations completed. */
  iteration: number;
  /** Index of the stage the next iteration belongs to. */
  stage: number;
  /** Scheduler steps taken within that stage. */
  schedulerEpoch: number;
  /** Samples the batcher has consumed. */
  samples: number;
  /** Adam: the lr now and each parameter's step count (0: no moments yet). */
  adam: { lr: number; steps: number[] };
  ema: { updates: number } | null;
  /** The generator loss terms sample from. */
  lossRng: GeneratorState;
  /** Training seconds so far (over all resumed runs). */
  seconds: number;
  /** CPU threads and vector instruction set of the run that wrote the checkpoint. */
  threads: number;
  simd?: string;
  /** Best validation PSNR so far and its iteration. */
  best: { psnr: number; iteration: number } | null;
  /** LossTerm.state() of the current stage's terms, by stage name then term name. */
  lossState?: Record<string, Record<string, unknown>>;
  /** Distributed: processes of the job that wrote it (absent: 1). */
  processes?: number;
}

/** A loaded training checkpoint: tensors and state. */
export interface TrainCheckpoint {
  path: string;
  model: MPFNetConfig;
  state: TrainState;
  weights: Map<string, TensorRecord>;
  ema: Map<string, TensorRecord> | null;
  expAvg: Map<string, TensorRecord>;
  expAvgSq: Map<string, TensorRecord>;
}

function data(t: Tensor): TensorData {
  return { shape: t.shape, data: t.dtype === 'float64' ? t.toFloat64Array() : t.toFloat32Array() };
}

export function checkpointPath(dir: string, iteration: number): string {
  return join(dir, `iter-${String(iteration).padStart(8, '0')}.safetensors`);
}

export async function saveTrainCheckpoint(path: string, o: { model: MPFNet; optimizer: Adam; ema: EMA<MPFNet> | null; state: TrainState }): Promise<void> {
  const entries: [string, TensorData][] = [];
  const named = [...o.model.namedParameters()];
  for (const [n, t] of named) entries.push([`model.${n}`, data(t)]);
  if (o.ema) for (const [n, t] of o.ema.shadow.namedParameters()) entries.push([`ema.${n}`, data(t)]);
  const sd = o.optimizer.stateDict();
  if (sd.state.length !== named.length) throw new Error('saveTrainCheckpoint: the optimiser does not hold the model parameters');
  sd.state.forEach((s, i) => {
    if (!s) return;
    entries.push([`adam.exp_avg.${named[i]![0]}`, data(s.expAvg)]);
    entries.push([`adam.exp_avg_sq.${named[i]![0]}`, data(s.expAvgSq)]);
  });
  await writeSafetensors(path, entries, {
    format: TRAIN_CHECKPOINT_FORMAT,
    config: configToJson(o.model.config),
    state: JSON.stringify(o.state),
  });
}

/** Read a training checkpoint (validated: format, config, state fields). */
export function loadTrainCheckpoint(path: string): TrainCheckpoint {
  const { tensors, metadata } = readSafetensors(path);
  if (metadata.format !== TRAIN_CHECKPOINT_FORMAT) {
    throw new RangeError(`${path} is not a training checkpoint (__metadata__.format is ${JSON.stringify(metadata.format ?? null)}, expected "${TRAIN_CHECKPOINT_FORMAT}"; start from model weights with --init instead)`);
  }
  let state: TrainState;
  let model: MPFNetConfig;
  try {
    model = resolveModelConfig(JSON.parse(metadata.config ?? 'null'), `${path}: config`);
    state = JSON.parse(metadata.state ?? 'null') as TrainState;
  } catch (e) {
    throw new RangeError(`${path}: unreadable metadata: ${(e as Error).message}`);
  }
  const ints = ['iteration', 'stage', 'schedulerEpoch', 'samples'] as const;
  if (!state || typeof state !== 'object' || ints.some((k) => !Number.isSafeInteger(state[k]) || state[k] < 0) || !state.adam || !Array.isArray(state.adam.steps) || !state.lossRng) {
    throw new RangeError(`${path}: __metadata__.state is incomplete or invalid`);
  }
  const pick = (prefix: string) => {
    const m = new Map<string, TensorRecord>();
    for (const [k, v] of tensors) if (k.startsWith(prefix)) m.set(k.slice(prefix.length), v);
    return m;
  };
  const ema = pick('ema.');
  return { path, model, state, weights: pick('model.'), ema: ema.size ? ema : null, expAvg: pick('adam.exp_avg.'), expAvgSq: pick('adam.exp_avg_sq.') };
}

/** Checkpoints in `dir`, oldest first. */
export function listCheckpoints(dir: string): { iteration: number; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => /^iter-(\d+)\.safetensors$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ iteration: Number(m[1]), path: join(dir, m[0]) }))
    .sort((a, b) => a.iteration - b.iteration);
}

/** The newest checkpoint file in a checkpoint folder, or null. */
export function latestCheckpoint(dir: string): string | null {
  const all = listCheckpoints(dir);
  return all.length ? all[all.length - 1]!.path : null;
}

/** Delete all but the newest `keep` checkpoints. */
export function pruneCheckpoints(dir: string, keep: number): void {
  const all = listCheckpoints(dir);
  for (const c of all.slice(0, Math.max(0, all.length - keep))) {
    try {
      unlinkSync(c.path);
    } catch {
      /* already gone */
    }
  }
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}
