// Pretraining of the embedding network E (docs/model.md §3): SimCLR on HR patches, NT-Xent τ = 0.1, Adam and
// a cosine lr schedule; E trains in training mode, so every forward runs one power iteration of
// its spectral norms (u, v are part of the checkpoints). `mpfnet pretrain-embedding --config …`.
//
// Sample k of the run: image schedule.index(k) (a shuffled epoch order, lib/data/dataset.ts's
// SampleSchedule), a random patch of data.patch pixels, two augmented views of data.size pixels, all
// drawn from schedule.generator(k). So the data state is one number, and a checkpoint (E with its
// buffers, Adam, the schedule position, that number) makes kill + resume end with the same bytes
// as an uninterrupted run (with the same thread count).
//
// Output folder: config.json, train.jsonl ({"iteration", "loss", "lr", "seconds"} per log.every),
// checkpoints/iter-<n>.safetensors, and at the end embedding.safetensors (loadEmbedding reads it;
// the contrastive term's "embedding" option points at it).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { tidy } from '../autograd/scope.js';
import { SampleSchedule } from '../data/dataset.js';
import { DecodedCache, cropRgb, type Decoded } from '../data/decoded.js';
import { listImages, type ImagesSpec } from '../data/image-folder.js';
import type { PlanarImage } from '../data/planar.js';
import { validateDatasetSpec } from '../data/registry.js';
import { probeImage, readImage } from '../io/image.js';
import { readSafetensors, writeSafetensors, type TensorData } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { getNumThreads } from '../memory.js';
import { embeddingTensorData, EMBEDDING_TRAIN_FORMAT, loadEmbeddingState, saveEmbedding } from '../models/embedding/checkpoint.js';
import { embeddingConfigToJson, resolveEmbeddingConfig, SNResNet18, type EmbeddingConfig } from '../models/embedding/snresnet18.js';
import { split, tensor } from '../ops/index.js';
import { Adam } from '../optim/adam.js';
import type { LRScheduler } from '../optim/schedules.js';
import { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { SIMCLR_AUGMENT, ntXent, simclrView, type SimclrAugment } from '../losses/simclr.js';
import { ConfigError, boolean, fail, integer, isPlainObject, number, oneOf, rejectUnknown, requireObject, string } from '../util/validate.js';
import { checkpointPath, ensureDir, latestCheckpoint, listCheckpoints, pruneCheckpoints } from './checkpoint.js';
import type { ScheduleConfig } from './config.js';
import { JsonlLog } from './log.js';
import { makeScheduler } from './trainer.js';

/** The config of `mpfnet pretrain-embedding` with defaults filled in (docs/contrastive-regularization.md). */
export interface PretrainConfig {
  embedding: EmbeddingConfig;
  seed: number;
  deterministic: boolean;
  out: string;
  data: {
    dir: string | null;
    files: string[] | null;
    limit: number | null;
    /** HR patch cut from an image (pixels); the views are crops of it. */
    patch: number;
    /** Size of each view fed to E. */
    size: number;
    /** Decoded images kept in memory, MiB. */
    cache: number;
  };
  batch: number;
  iters: number;
  lr: number;
  optimizer: { betas: [number, number]; eps: number; weightDecay: number };
  schedule: ScheduleConfig;
  tau: number;
  augment: SimclrAugment;
  checkpoint: { every: number; keep: number };
  log: { every: number };
  baseDir: string;
}

const TOP = ['embedding', 'seed', 'deterministic', 'out', 'data', 'batch', 'iters', 'lr', 'optimizer', 'schedule', 'tau', 'augment', 'checkpoint', 'log'];

function pair(v: unknown, where: string, min: number, max: number, positive = false): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) fail(where, `must be a [low, high] pair, got ${JSON.stringify(v)}`);
  const a = number(v[0], `${where}[0]`, { min, max, exclusiveMin: positive });
  const b = number(v[1], `${where}[1]`, { min, max, exclusiveMin: positive });
  if (b < a) fail(where, `high ${b} is below low ${a}`);
  return [a, b];
}

function probability(v: unknown, d: number, where: string): number {
  return number(v ?? d, where, { min: 0, max: 1 });
}

/** The images as `mpfnet train` names them: data.train = {"type": "images", "dir" | "files", "limit"}. */
function trainImages(d: Record<string, unknown>): Pick<PretrainConfig['data'], 'dir' | 'files' | 'limit'> {
  for (const k of ['dir', 'files', 'limit']) if (d[k] !== undefined) fail(`data.${k}`, 'give the images either as data.train (a dataset, as for mpfnet train) or as data.dir / data.files, not both');
  const spec = validateDatasetSpec(d.train, 'data.train') as ImagesSpec & { type: string };
  // E learns from HR images alone: a dataset of pairs has no single folder to take them from.
  if (spec.type !== 'images') fail('data.train.type', `pretrain-embedding reads HR images: must be "images", got ${JSON.stringify(spec.type)}`);
  return { dir: spec.dir ?? null, files: spec.files ?? null, limit: spec.limit ?? null };
}

/** The original form: data.dir or data.files, and data.limit. */
function legacyImages(d: Record<string, unknown>): Pick<PretrainConfig['data'], 'dir' | 'files' | 'limit'> {
  if ((d.dir === undefined) === (d.files === undefined)) fail('data', "needs exactly one of 'dir' and 'files' (HR images), or data.train (a dataset like {\"type\": \"images\", \"dir\": \"photos/\"}, as for mpfnet train)");
  let files: string[] | null = null;
  if (d.files !== undefined) {
    if (!Array.isArray(d.files) || !d.files.length) fail('data.files', 'must be a non-empty list of paths');
    files = d.files.map((f, i) => string(f, `data.files[${i}]`));
  }
  return { dir: d.dir === undefined ? null : string(d.dir, 'data.dir'), files, limit: d.limit === undefined ? null : integer(d.limit, 'data.limit', 1) };
}

/** Validate a parsed pretraining config (strict: unknown fields are errors naming their path). */
export function resolvePretrainConfig(raw: unknown, baseDir = process.cwd()): PretrainConfig {
  const c = requireObject(raw, 'config');
  rejectUnknown(c, TOP, 'config');
  const d = requireObject(c.data, 'data');
  rejectUnknown(d, ['train', 'dir', 'files', 'limit', 'patch', 'size', 'cache'], 'data');
  const images = d.train !== undefined ? trainImages(d) : legacyImages(d);
  const patch = integer(d.patch ?? 192, 'data.patch', 8, 8192);
  const data = {
    ...images,
    patch,
    size: integer(d.size ?? 64, 'data.size', 8, 4096),
    cache: number(d.cache ?? 1024, 'data.cache', { min: 0 }),
  };
  const iters = integer(c.iters ?? 20_000, 'iters', 1);
  const o = c.optimizer === undefined ? {} : requireObject(c.optimizer, 'optimizer');
  rejectUnknown(o, ['betas', 'eps', 'weightDecay'], 'optimizer');
  const betas = pair(o.betas ?? [0.9, 0.999], 'optimizer.betas', 0, 0.999999999);
  const s = c.schedule === undefined ? {} : typeof c.schedule === 'string' ? { type: c.schedule } : requireObject(c.schedule, 'schedule');
  rejectUnknown(s, ['type', 'etaMin', 'warmup', 'warmupStart'], 'schedule');
  const type = oneOf(s.type ?? 'cosine', ['cosine', 'constant'] as const, 'schedule.type');
  const warmup = integer(s.warmup ?? 0, 'schedule.warmup', 0);
  if (warmup >= iters) fail('schedule.warmup', `must be less than iters (${iters}), got ${warmup}`);
  if (type === 'constant' && s.etaMin !== undefined) fail('schedule.etaMin', 'does not apply to type "constant"');
  const a = c.augment === undefined ? {} : requireObject(c.augment, 'augment');
  rejectUnknown(a, ['scale', 'ratio', 'hflip', 'jitter', 'jitterP', 'greyP'], 'augment');
  const jitter = a.jitter ?? SIMCLR_AUGMENT.jitter;
  if (!Array.isArray(jitter) || jitter.length !== 4) fail('augment.jitter', `must be [brightness, contrast, saturation, hue], got ${JSON.stringify(jitter)}`);
  const k = c.checkpoint === undefined ? {} : requireObject(c.checkpoint, 'checkpoint');
  rejectUnknown(k, ['every', 'keep'], 'checkpoint');
  const l = c.log === undefined ? {} : requireObject(c.log, 'log');
  rejectUnknown(l, ['every'], 'log');
  return {
    embedding: resolveEmbeddingConfig(c.embedding ?? {}, 'embedding'),
    seed: integer(c.seed ?? 0, 'seed', 0, Number.MAX_SAFE_INTEGER),
    deterministic: boolean(c.deterministic ?? true, 'deterministic'),
    out: string(c.out ?? 'runs/embedding', 'out'),
    data,
    batch: integer(c.batch ?? 32, 'batch', 2, 4096),
    iters,
    lr: number(c.lr ?? 3e-4, 'lr', { min: 0, exclusiveMin: true }),
    optimizer: { betas, eps: number(o.eps ?? 1e-8, 'optimizer.eps', { min: 0, exclusiveMin: true }), weightDecay: number(o.weightDecay ?? 1e-6, 'optimizer.weightDecay', { min: 0 }) },
    schedule: { type, etaMin: number(s.etaMin ?? 0, 'schedule.etaMin', { min: 0 }), warmup, warmupStart: number(s.warmupStart ?? 1e-3, 'schedule.warmupStart', { min: 0, exclusiveMin: true, max: 1 }), period: null, periodMult: 1 },
    tau: number(c.tau ?? 0.1, 'tau', { min: 0, exclusiveMin: true }),
    augment: {
      scale: pair(a.scale ?? SIMCLR_AUGMENT.scale, 'augment.scale', 0, 1, true),
      ratio: pair(a.ratio ?? SIMCLR_AUGMENT.ratio, 'augment.ratio', 0, 100, true),
      hflip: probability(a.hflip, SIMCLR_AUGMENT.hflip, 'augment.hflip'),
      jitter: jitter.map((v, i) => number(v, `augment.jitter[${i}]`, { min: 0, max: i === 3 ? 0.5 : 10 })) as SimclrAugment['jitter'],
      jitterP: probability(a.jitterP, SIMCLR_AUGMENT.jitterP, 'augment.jitterP'),
      greyP: probability(a.greyP, SIMCLR_AUGMENT.greyP, 'augment.greyP'),
    },
    checkpoint: { every: integer(k.every ?? 1000, 'checkpoint.every', 0), keep: integer(k.keep ?? 3, 'checkpoint.keep', 1) },
    log: { every: integer(l.every ?? 10, 'log.every', 1) },
    baseDir: resolve(baseDir),
  };
}

/** Command-line overrides of the pretraining config. */
export interface PretrainOverrides {
  iters?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  out?: string;
}

/** Read and validate a JSON pretraining config; relative paths resolve against its folder. */
export function loadPretrainConfig(path: string, overrides: PretrainOverrides = {}): PretrainConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ConfigError(err.code ? `cannot read the config ${path}: ${err.code}` : `${path}: not valid JSON: ${err.message}`);
  }
  if (isPlainObject(raw)) for (const [key, v] of Object.entries(overrides)) if (v !== undefined) raw[key] = v;
  return resolvePretrainConfig(raw, dirname(resolve(path)));
}

/** Progress of embedding pretraining. */
export type PretrainEvent =
  | { type: 'start'; iteration: number; total: number; resumedFrom: string | null; images: number }
  | { type: 'iteration'; iteration: number; total: number; loss: number; lr: number; seconds: number }
  | { type: 'checkpoint'; iteration: number; path: string }
  | { type: 'done'; iteration: number; total: number; seconds: number; aborted: boolean; path: string | null };

interface PretrainState {
  iteration: number;
  samples: number;
  schedulerEpoch: number;
  adam: { lr: number; steps: number[] };
  seconds: number;
  threads: number;
}

/** A pretraining checkpoint, checked against the config (format, E's config, iteration, threads). */
function readPretrainCheckpoint(path: string, config: PretrainConfig) {
  if (!existsSync(path)) throw new RangeError(`resume: ${path} does not exist`);
  const { tensors, metadata } = readSafetensors(path);
  if (metadata.format !== EMBEDDING_TRAIN_FORMAT) throw new RangeError(`resume: ${path} is not an embedding pretraining checkpoint (format ${JSON.stringify(metadata.format ?? null)})`);
  if (metadata.config !== embeddingConfigToJson(config.embedding)) throw new RangeError(`resume: ${path} was written for embedding ${metadata.config}, the config has ${embeddingConfigToJson(config.embedding)}`);
  let state: PretrainState | null = null;
  try {
    state = JSON.parse(metadata.state ?? 'null') as PretrainState;
  } catch {
    /* reported below */
  }
  if (!state || !Number.isSafeInteger(state.iteration) || !Number.isSafeInteger(state.samples) || !state.adam || !Array.isArray(state.adam.steps)) throw new RangeError(`resume: ${path}: __metadata__.state is incomplete`);
  if (state.iteration > config.iters) throw new RangeError(`resume: ${path} is at iteration ${state.iteration}, beyond the config's ${config.iters}`);
  if (state.threads !== getNumThreads() && config.deterministic) {
    throw new RangeError(`resume: the checkpoint was written with ${state.threads} threads, this run uses ${getNumThreads()} (use --threads ${state.threads}, or "deterministic": false)`);
  }
  const pick = (prefix: string) => new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  return { path, state, pick };
}

function data(t: Tensor): TensorData {
  return { shape: t.shape, data: t.dtype === 'float64' ? t.toFloat64Array() : t.toFloat32Array() };
}

/** SimCLR pretraining of the embedding network E, step by step, with exact resume. */
export class EmbeddingPretrainer {
  readonly config: PretrainConfig;
  readonly outDir: string;
  readonly embedding: SNResNet18;
  readonly optimizer: Adam;
  readonly log: JsonlLog;
  iteration = 0;
  samples = 0;
  seconds = 0;
  resumedFrom: string | null = null;
  readonly #files: string[];
  readonly #schedule: SampleSchedule;
  readonly #cache: DecodedCache;
  #scheduler: LRScheduler;

  /** `embedding` holds its final weights already: Adam is built on its parameter tensors. */
  private constructor(config: PretrainConfig, files: string[], embedding: SNResNet18) {
    this.config = config;
    this.outDir = resolve(config.baseDir, config.out);
    this.#files = files;
    this.embedding = embedding;
    this.embedding.train();
    this.optimizer = new Adam(this.embedding.parameters(), { lr: config.lr, betas: config.optimizer.betas, eps: config.optimizer.eps, weightDecay: config.optimizer.weightDecay });
    this.#scheduler = makeScheduler(this.optimizer, config.schedule, config.lr, config.iters);
    this.#schedule = new SampleSchedule(files.length, new Generator(config.seed).fork(1).seed);
    this.#cache = new DecodedCache(config.data.cache * 1024 * 1024);
    this.log = new JsonlLog(join(this.outDir, 'train.jsonl'));
  }

  /** Where checkpoints go. */
  get checkpointDir(): string {
    return join(this.outDir, 'checkpoints');
  }

  /** List and check the images, build E and Adam; with `resume`, restore the latest checkpoint (or the given one). */
  static async create(config: PretrainConfig, o: { resume?: boolean | string } = {}): Promise<EmbeddingPretrainer> {
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(config.baseDir, p));
    let files = config.data.dir !== null ? listImages(abs(config.data.dir)) : config.data.files!.map(abs);
    if (config.data.limit) files = files.slice(0, config.data.limit);
    if (!files.length) throw new RangeError(`pretrain-embedding: no images in ${config.data.dir ?? '(files)'}`);
    for (const f of files) {
      const p = await probeImage(f);
      if (p.width < config.data.patch || p.height < config.data.patch) throw new RangeError(`pretrain-embedding: ${f} (${p.width}×${p.height}) is smaller than data.patch ${config.data.patch}`);
    }
    const outDir = resolve(config.baseDir, config.out);
    const dir = join(outDir, 'checkpoints');
    const path = o.resume ? (typeof o.resume === 'string' ? resolve(o.resume) : latestCheckpoint(dir)) : null;
    if (!path && listCheckpoints(dir).length) throw new RangeError(`${outDir} already holds checkpoints: resume with --resume, or choose another output folder`);
    const embedding = new SNResNet18(config.embedding, { generator: new Generator(config.seed) });
    let ck: ReturnType<typeof readPretrainCheckpoint> | null = null;
    try {
      if (path) {
        ck = readPretrainCheckpoint(path, config);
        loadEmbeddingState(embedding, ck.pick('model.'), path);
      }
    } catch (e) {
      embedding.dispose();
      throw e;
    }
    const t = new EmbeddingPretrainer(config, files, embedding);
    if (ck) {
      try {
        t.#restore(ck);
      } catch (e) {
        t.dispose();
        throw e;
      }
    }
    return t;
  }

  /** Restore Adam, the schedule, the data position and the counters (E's weights are loaded already). */
  #restore(ck: ReturnType<typeof readPretrainCheckpoint>): void {
    const { path, state: s, pick } = ck;
    const names = [...this.embedding.namedParameters()].map(([n]) => n);
    const avg = pick('adam.exp_avg.');
    const sq = pick('adam.exp_avg_sq.');
    const made: Tensor[] = [];
    const mk = (m: typeof avg, n: string) => {
      const r = m.get(n);
      if (!r) throw new RangeError(`resume: ${path} lacks the Adam moments of '${n}'`);
      const t = tensor(r.data, r.shape);
      made.push(t);
      return t;
    };
    try {
      this.optimizer.loadStateDict({ lr: s.adam.lr, state: names.map((n, i) => (s.adam.steps[i]! > 0 ? { step: s.adam.steps[i]!, expAvg: mk(avg, n), expAvgSq: mk(sq, n) } : null)) });
    } finally {
      for (const t of made) t.dispose();
    }
    this.#scheduler.loadStateDict({ lastEpoch: s.schedulerEpoch });
    this.iteration = s.iteration;
    this.samples = s.samples;
    this.seconds = s.seconds;
    this.log.truncateAfter(s.iteration);
    this.resumedFrom = path;
  }

  async #decoded(path: string): Promise<Decoded> {
    const hit = this.#cache.get(path);
    if (hit) return hit;
    const d: Decoded = { kind: 'image', image: await readImage(path) };
    this.#cache.set(path, d);
    return d;
  }

  /** The 2B views of the next batch: (2B, 3, size, size), all first views, then all second views. */
  async nextBatch(): Promise<Tensor> {
    const { batch: b, data: dc, augment } = this.config;
    const size = dc.size;
    const views = new Float32Array(2 * b * 3 * size * size);
    const one = 3 * size * size;
    for (let i = 0; i < b; i++) {
      const k = this.samples++;
      const rng = this.#schedule.generator(k);
      const img = await this.#decoded(this.#files[this.#schedule.index(k)]!);
      const { height, width } = img.kind === 'image' ? img.image : img.planar;
      const top = rng.nextInt(height - dc.patch + 1);
      const left = rng.nextInt(width - dc.patch + 1);
      const patch: PlanarImage = cropRgb(img, top, left, dc.patch, dc.patch);
      views.set(simclrView(patch, size, augment, rng).data, i * one);
      views.set(simclrView(patch, size, augment, rng).data, (b + i) * one);
    }
    return tensor(views, [2 * b, 3, size, size]);
  }

  /** One optimisation step on a batch of views (disposed here). Returns the loss. */
  step(views: Tensor): number {
    const b = views.shape[0]! / 2;
    const loss = tidy(() => {
      this.optimizer.zeroGrad();
      const [z1, z2] = split(this.embedding.forward(views), [b, b], 0) as [Tensor, Tensor];
      const l = ntXent(z1, z2, this.config.tau);
      l.backward();
      return l.item();
    });
    views.dispose();
    if (!Number.isFinite(loss)) throw new RangeError(`pretraining diverged: the loss is ${loss} at iteration ${this.iteration + 1} (lower the lr?)`);
    this.optimizer.step();
    this.#scheduler.step();
    this.iteration += 1;
    return loss;
  }

  /** Write a checkpoint (atomic); returns its path. */
  async saveCheckpoint(): Promise<string> {
    ensureDir(this.checkpointDir);
    const path = checkpointPath(this.checkpointDir, this.iteration);
    const entries = embeddingTensorData(this.embedding, 'model.');
    const named = [...this.embedding.namedParameters()];
    const sd = this.optimizer.stateDict();
    sd.state.forEach((s, i) => {
      if (!s) return;
      entries.push([`adam.exp_avg.${named[i]![0]}`, data(s.expAvg)], [`adam.exp_avg_sq.${named[i]![0]}`, data(s.expAvgSq)]);
    });
    const state: PretrainState = {
      iteration: this.iteration,
      samples: this.samples,
      schedulerEpoch: this.#scheduler.lastEpoch,
      adam: { lr: this.optimizer.lr, steps: sd.state.map((s) => s?.step ?? 0) },
      seconds: this.seconds,
      threads: getNumThreads(),
    };
    await writeSafetensors(path, entries, { format: EMBEDDING_TRAIN_FORMAT, config: embeddingConfigToJson(this.config.embedding), state: JSON.stringify(state) });
    pruneCheckpoints(this.checkpointDir, this.config.checkpoint.keep);
    return path;
  }

  /** Train to config.iters (or until the signal aborts: a checkpoint is written first). */
  async run(o: { signal?: AbortSignal; onProgress?: (e: PretrainEvent) => void } = {}): Promise<{ iteration: number; aborted: boolean; path: string | null; seconds: number }> {
    const total = this.config.iters;
    const emit = o.onProgress ?? (() => {});
    ensureDir(this.outDir);
    if (!this.resumedFrom) {
      this.log.clear();
      rmSync(join(this.outDir, 'embedding.safetensors'), { force: true });
    }
    const { baseDir: _b, ...shown } = this.config;
    await writeFileAtomic(join(this.outDir, 'config.json'), JSON.stringify(shown, null, 2) + '\n');
    emit({ type: 'start', iteration: this.iteration, total, resumedFrom: this.resumedFrom, images: this.#files.length });
    let window = { n: 0, loss: 0 };
    let aborted = false;
    while (this.iteration < total) {
      if (o.signal?.aborted) {
        aborted = true;
        break;
      }
      const t0 = performance.now();
      const lr = this.optimizer.lr;
      const loss = this.step(await this.nextBatch());
      this.seconds += (performance.now() - t0) / 1000;
      window.n++;
      window.loss += loss;
      if (this.iteration % this.config.log.every === 0 || this.iteration === total) {
        this.log.append({ iteration: this.iteration, loss: window.loss / window.n, lr, seconds: Math.round(this.seconds * 1000) / 1000 });
        window = { n: 0, loss: 0 };
      }
      emit({ type: 'iteration', iteration: this.iteration, total, loss, lr, seconds: this.seconds });
      const every = this.config.checkpoint.every;
      if (every && this.iteration % every === 0 && this.iteration !== total) emit({ type: 'checkpoint', iteration: this.iteration, path: await this.saveCheckpoint() });
      await yieldToEventLoop();
    }
    let path: string | null = null;
    if (this.iteration > 0) emit({ type: 'checkpoint', iteration: this.iteration, path: await this.saveCheckpoint() });
    if (!aborted) {
      path = join(this.outDir, 'embedding.safetensors');
      await saveEmbedding(this.embedding, path, { iterations: String(this.iteration), source: 'mpfnet pretrain-embedding (SimCLR)' });
    }
    emit({ type: 'done', iteration: this.iteration, total, seconds: this.seconds, aborted, path });
    return { iteration: this.iteration, aborted, path, seconds: this.seconds };
  }

  /** Free E and the optimiser state. */
  dispose(): void {
    this.optimizer.dispose();
    this.embedding.dispose();
  }
}

/** Pretrain E per `config` (resuming when asked). */
export async function pretrainEmbedding(config: PretrainConfig, o: { resume?: boolean | string; signal?: AbortSignal; onProgress?: (e: PretrainEvent) => void } = {}) {
  const t = await EmbeddingPretrainer.create(config, o);
  try {
    return await t.run(o);
  } finally {
    t.dispose();
  }
}
