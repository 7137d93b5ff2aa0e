// The training config (JSON; docs/training.md documents every field with a full example).
// Validation is strict: unknown fields and bad values are rejected naming the field's path
// ("stages[0].schedule.etaMin"), so a typo never silently falls back to a default.
import { dirname, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { resolveModelConfig, type MPFNetConfig } from '../models/mpfnet/config.js';
import { validateDatasetSpec } from '../data/registry.js';
import '../data/image-folder.js';
import { ConfigError, boolean, fail, integer, isPlainObject, number, oneOf, rejectUnknown, requireObject, string } from '../util/validate.js';
import { validateLossSpec, type LossSpec } from './loss-terms/index.js';

/** A learning-rate schedule type. */
export type ScheduleType = 'cosine' | 'restarts' | 'constant';

/** A stage's learning-rate schedule. */
export interface ScheduleConfig {
  type: ScheduleType;
  /** Lowest lr of cosine schedules (docs/model.md §2: 1e-7). */
  etaMin: number;
  /** Iterations of linear warm-up from warmupStart·lr to lr before the schedule starts. */
  warmup: number;
  warmupStart: number;
  /** restarts: length of the first period (default: the stage's iterations after warm-up / 4). */
  period: number | null;
  /** restarts: each period is this many times longer than the one before. */
  periodMult: number;
}

/** One training stage: iterations, lr, loss terms, schedule. */
export interface StageConfig {
  name: string;
  iters: number;
  loss: Record<string, LossSpec>;
  lr: number;
  schedule: ScheduleConfig;
}

/** A dataset spec of the training config: its `type` and that type's fields. */
export type DatasetSpec = { type: string } & Record<string, unknown>;

/** The training config with defaults filled in (docs/training.md). */
export interface TrainConfig {
  model: MPFNetConfig;
  /** Weights to start from (a model or training checkpoint); null: seeded initialisation. */
  init: string | null;
  seed: number;
  /** Refuse to resume with a different thread count (results would differ in the last bits). */
  deterministic: boolean;
  /** Output folder: checkpoints/, train.jsonl, model.safetensors, model-ema.safetensors. */
  out: string;
  data: {
    train: DatasetSpec;
    val: DatasetSpec | null;
    batch: number;
    /** LR patch size (HR = scale × patch). */
    patch: number;
    augment: boolean;
    /** Worker threads preparing batches ahead (0: on the training thread; null: min(2, CPUs)). */
    workers: number | null;
  };
  optimizer: { betas: [number, number]; eps: number; weightDecay: number };
  stages: StageConfig[];
  ema: { decay: number; warmup: boolean } | null;
  validation: {
    /** Validate every N iterations (0: only at the end). */
    every: number;
    /** Centre LR crop of this size (null: whole images, cut to a multiple of the scale). */
    patch: number | null;
    /** PSNR on the Y channel (docs/model.md §4) or RGB. */
    yChannel: boolean;
    /** Pixels removed on every side before measuring (default: the scale). */
    cropBorder: number | null;
    /** Validate the EMA weights when there are any (default true). */
    useEma: boolean;
  };
  checkpoint: { every: number; keep: number };
  log: {
    every: number;
    /** Write TensorBoard event files to <out>/tb (default true). */
    tensorboard: boolean;
    /** Validation images shown in TensorBoard (LR | SR | HR, the first N validation images; default 4). */
    images: number;
    /** Side of the centre crop shown, HR pixels (default 128). */
    imageSize: number;
  };
  /** Relative paths (data, init, out) resolve against this folder: the config file's. */
  baseDir: string;
}

const TOP = ['model', 'init', 'seed', 'deterministic', 'out', 'data', 'optimizer', 'stages', 'ema', 'validation', 'checkpoint', 'log'];

function schedule(v: unknown, where: string, iters: number): ScheduleConfig {
  const s = v === undefined ? {} : typeof v === 'string' ? { type: v } : requireObject(v, where);
  rejectUnknown(s, ['type', 'etaMin', 'warmup', 'warmupStart', 'period', 'periodMult'], where);
  const type = oneOf(s.type ?? 'cosine', ['cosine', 'restarts', 'constant'] as const, `${where}.type`);
  const warmup = integer(s.warmup ?? 0, `${where}.warmup`, 0);
  if (warmup >= iters) fail(`${where}.warmup`, `must be less than the stage's iters (${iters}), got ${warmup}`);
  const rest = iters - warmup;
  const period = s.period === undefined || s.period === null ? null : integer(s.period, `${where}.period`, 1);
  if (type !== 'restarts' && (s.period !== undefined || s.periodMult !== undefined)) fail(where, `'period' and 'periodMult' apply only to type "restarts"`);
  if (type === 'constant' && s.etaMin !== undefined) fail(`${where}.etaMin`, 'does not apply to type "constant"');
  return {
    type,
    etaMin: number(s.etaMin ?? 1e-7, `${where}.etaMin`, { min: 0 }),
    warmup,
    warmupStart: number(s.warmupStart ?? 1e-3, `${where}.warmupStart`, { min: 0, exclusiveMin: true, max: 1 }),
    period: type === 'restarts' ? (period ?? Math.max(1, Math.floor(rest / 4))) : null,
    periodMult: integer(s.periodMult ?? 1, `${where}.periodMult`, 1),
  };
}

function stage(v: unknown, i: number): StageConfig {
  const where = `stages[${i}]`;
  const s = requireObject(v, where);
  rejectUnknown(s, ['name', 'iters', 'loss', 'lr', 'schedule'], where);
  const iters = integer(s.iters ?? 200_000, `${where}.iters`, 1);
  return {
    name: s.name === undefined ? `stage${i + 1}` : string(s.name, `${where}.name`),
    iters,
    loss: validateLossSpec(s.loss ?? { l1: 1 }, `${where}.loss`),
    lr: number(s.lr ?? 1e-4, `${where}.lr`, { min: 0, exclusiveMin: true }),
    schedule: schedule(s.schedule, `${where}.schedule`, iters),
  };
}

/** Validate a parsed config; `baseDir` resolves relative paths (default: the working directory). */
export function resolveTrainConfig(raw: unknown, baseDir = process.cwd()): TrainConfig {
  const c = requireObject(raw, 'config');
  rejectUnknown(c, TOP, 'config');
  const model = resolveModelConfig(c.model ?? {}, 'model');
  const d = requireObject(c.data, 'data');
  rejectUnknown(d, ['train', 'val', 'batch', 'patch', 'augment', 'workers'], 'data');
  if (d.train === undefined) fail('data.train', 'is required: a dataset like {"type": "images", "dir": "photos/"}');
  const data: TrainConfig['data'] = {
    train: validateDatasetSpec(d.train, 'data.train'),
    val: d.val === undefined || d.val === null ? null : validateDatasetSpec(d.val, 'data.val'),
    batch: integer(d.batch ?? 32, 'data.batch', 1, 4096),
    patch: integer(d.patch ?? 48, 'data.patch', 1, 4096),
    augment: boolean(d.augment ?? true, 'data.augment'),
    workers: d.workers === undefined || d.workers === null ? null : integer(d.workers, 'data.workers', 0, 64),
  };
  const o = c.optimizer === undefined ? {} : requireObject(c.optimizer, 'optimizer');
  rejectUnknown(o, ['type', 'betas', 'eps', 'weightDecay'], 'optimizer');
  if (o.type !== undefined) oneOf(o.type, ['adam'] as const, 'optimizer.type');
  const betas = o.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2) fail('optimizer.betas', `must be [beta1, beta2], got ${JSON.stringify(betas)}`);
  const optimizer = {
    betas: [number(betas[0], 'optimizer.betas[0]', { min: 0, max: 0.999999 }), number(betas[1], 'optimizer.betas[1]', { min: 0, max: 0.999999999 })] as [number, number],
    eps: number(o.eps ?? 1e-8, 'optimizer.eps', { min: 0 }),
    weightDecay: number(o.weightDecay ?? 0, 'optimizer.weightDecay', { min: 0 }),
  };
  const rawStages = c.stages ?? [{}];
  if (!Array.isArray(rawStages) || !rawStages.length) fail('stages', `must be a non-empty list of stages, got ${JSON.stringify(rawStages)}`);
  const stages = rawStages.map(stage);
  const names = new Set<string>();
  for (const [i, s] of stages.entries()) {
    if (names.has(s.name)) fail(`stages[${i}].name`, `duplicates an earlier stage's name '${s.name}'`);
    names.add(s.name);
  }
  let ema: TrainConfig['ema'] = { decay: 0.999, warmup: true };
  if (c.ema === false || c.ema === null) ema = null;
  else if (c.ema !== undefined && c.ema !== true) {
    const e = requireObject(c.ema, 'ema');
    rejectUnknown(e, ['decay', 'warmup'], 'ema');
    ema = { decay: number(e.decay ?? 0.999, 'ema.decay', { min: 0, max: 0.99999999 }), warmup: boolean(e.warmup ?? true, 'ema.warmup') };
  }
  const v = c.validation === undefined ? {} : requireObject(c.validation, 'validation');
  rejectUnknown(v, ['every', 'patch', 'yChannel', 'cropBorder', 'useEma'], 'validation');
  const validation = {
    every: integer(v.every ?? 1000, 'validation.every', 0),
    patch: v.patch === undefined || v.patch === null ? null : integer(v.patch, 'validation.patch', 1),
    yChannel: boolean(v.yChannel ?? true, 'validation.yChannel'),
    cropBorder: v.cropBorder === undefined || v.cropBorder === null ? null : integer(v.cropBorder, 'validation.cropBorder', 0),
    useEma: boolean(v.useEma ?? true, 'validation.useEma'),
  };
  const k = c.checkpoint === undefined ? {} : requireObject(c.checkpoint, 'checkpoint');
  rejectUnknown(k, ['every', 'keep'], 'checkpoint');
  const checkpoint = { every: integer(k.every ?? 1000, 'checkpoint.every', 0), keep: integer(k.keep ?? 3, 'checkpoint.keep', 1) };
  const l = c.log === undefined ? {} : requireObject(c.log, 'log');
  rejectUnknown(l, ['every', 'tensorboard', 'images', 'imageSize'], 'log');
  return {
    model,
    init: c.init === undefined || c.init === null ? null : string(c.init, 'init'),
    seed: integer(c.seed ?? 0, 'seed', 0, Number.MAX_SAFE_INTEGER),
    deterministic: boolean(c.deterministic ?? true, 'deterministic'),
    out: string(c.out ?? 'runs/mpfnet', 'out'),
    data,
    optimizer,
    stages,
    ema,
    validation,
    checkpoint,
    log: {
      every: integer(l.every ?? 10, 'log.every', 1),
      tensorboard: boolean(l.tensorboard ?? true, 'log.tensorboard'),
      images: integer(l.images ?? 4, 'log.images', 0, 64),
      imageSize: integer(l.imageSize ?? 128, 'log.imageSize', 8, 1024),
    },
    baseDir: resolve(baseDir),
  };
}

/** Read and validate a JSON config file; relative paths in it resolve against its folder. */
export function loadTrainConfig(path: string, overrides: TrainOverrides = {}): TrainConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the config ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  return resolveTrainConfig(applyOverrides(raw, overrides), dirname(resolve(path)));
}

/** Command-line overrides (mpfnet train --iters ... ), applied to the raw JSON before validation. */
export interface TrainOverrides {
  /** Iterations of every stage. */
  iters?: number;
  batch?: number;
  patch?: number;
  /** lr of every stage. */
  lr?: number;
  /** Schedule type of every stage. */
  schedule?: string;
  seed?: number;
  init?: string;
  out?: string;
  scale?: number;
}

/** Apply command-line overrides to a raw (unvalidated) config. */
export function applyOverrides(raw: unknown, o: TrainOverrides): unknown {
  if (!isPlainObject(raw)) return raw;
  const c: Record<string, unknown> = structuredClone(raw);
  const data = isPlainObject(c.data) ? c.data : (c.data = {}) as Record<string, unknown>;
  if (o.batch !== undefined) data.batch = o.batch;
  if (o.patch !== undefined) data.patch = o.patch;
  if (o.seed !== undefined) c.seed = o.seed;
  if (o.init !== undefined) c.init = o.init;
  if (o.out !== undefined) c.out = o.out;
  if (o.scale !== undefined) c.model = { ...(isPlainObject(c.model) ? c.model : {}), scale: o.scale };
  if (o.iters !== undefined || o.lr !== undefined || o.schedule !== undefined) {
    const stages: unknown[] = Array.isArray(c.stages) && c.stages.length ? c.stages : [{}];
    c.stages = stages.map((s) => {
      if (!isPlainObject(s)) return s;
      const t: Record<string, unknown> = { ...s };
      if (o.iters !== undefined) {
        t.iters = o.iters;
        // A warm-up longer than the new length would be rejected; shrink it proportionally.
        if (isPlainObject(t.schedule) && typeof t.schedule.warmup === 'number' && typeof s.iters === 'number' && t.schedule.warmup >= o.iters) {
          t.schedule = { ...t.schedule, warmup: Math.floor((t.schedule.warmup * o.iters) / s.iters) };
        }
      }
      if (o.lr !== undefined) t.lr = o.lr;
      if (o.schedule !== undefined) {
        const prev = isPlainObject(t.schedule) ? t.schedule : {};
        t.schedule = o.schedule === prev.type ? prev : { ...(typeof prev.warmup === 'number' ? { warmup: prev.warmup } : {}), type: o.schedule };
      }
      return t;
    });
  }
  return c;
}

/** The config as JSON (for out/config.json): what was run, with every default filled in. */
export function trainConfigToJson(c: TrainConfig): string {
  const { baseDir: _b, ...rest } = c;
  const stages = rest.stages.map((s) => ({ ...s, loss: Object.fromEntries(Object.entries(s.loss).map(([k, v]) => [k, Object.keys(v.options).length ? { weight: v.weight, ...v.options } : v.weight])) }));
  return JSON.stringify({ ...rest, stages }, null, 2) + '\n';
}
