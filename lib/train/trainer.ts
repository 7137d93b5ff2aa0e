// The training loop (docs/model.md §2): iteration-based over a list of stages, each with its own loss
// terms, lr and schedule; one Adam for the whole run (its moments carry across stages); an
// optional EMA of the weights for validation; periodic validation, checkpoints and a JSONL log.
//
// A step: zero grads -> forward -> weighted loss terms -> backward -> Adam -> schedule -> EMA,
// all tensors of the step inside tidy(), so memory stays flat. Everything random comes from the
// config's seed: initialisation (seed), data order and crops (fork 1), loss sampling (fork 2);
// a checkpoint stores the positions, so kill -9 + resume ends with bitwise the same weights.
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { tidy } from '../autograd/scope.js';
import type { Batch, BatchSource, Dataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { createDataset } from '../data/registry.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { getNumThreads, simdLevel } from '../memory.js';
import { MPFNet, loadModel } from '../models/mpfnet/mpfnet.js';
import { add, mulScalar } from '../ops/index.js';
import { tensor } from '../ops/creation.js';
import { Adam } from '../optim/adam.js';
import { EMA } from '../optim/ema.js';
import { ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, LinearLR, SequentialLR, type LROptimizer, type LRScheduler } from '../optim/schedules.js';
import { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import {
  checkpointPath,
  ensureDir,
  latestCheckpoint,
  listCheckpoints,
  loadTrainCheckpoint,
  pruneCheckpoints,
  saveTrainCheckpoint,
  type TrainCheckpoint,
  type TrainState,
} from './checkpoint.js';
import type { TensorRecord } from '../io/safetensors.js';
import { trainConfigToJson, type ScheduleConfig, type StageConfig, type TrainConfig } from './config.js';
import { JsonlLog } from './log.js';
import { createLossTerm, type LossTerm } from './loss-terms/index.js';
import { TrainingBoard } from './tensorboard/training-board.js';
import { validate, type ValidationResult } from './validate.js';
// Distributed: data parallelism over MPI, docs/distributed-training.md.
import { averageGradients, checkSameRun } from '../distributed/data-parallel.js';
import { processGroup, type AllreduceStats, type ProcessGroup } from '../distributed/process-group.js';
import { SilentLog } from '../distributed/silent-log.js';

/** Progress of training: steps, validations, checkpoints, stage changes. */
export type TrainEvent =
  | { type: 'start'; iteration: number; total: number; resumedFrom: string | null }
  | { type: 'stage'; iteration: number; stage: string; index: number }
  | { type: 'iteration'; iteration: number; total: number; stage: string; loss: number; losses: Record<string, number>; lr: number; itPerSec: number; etaSeconds: number; seconds: number }
  | { type: 'validation'; iteration: number; psnr: number; seconds: number; weights: 'model' | 'ema' }
  | { type: 'checkpoint'; iteration: number; path: string }
  | { type: 'warning'; iteration: number; message: string }
  | { type: 'done'; iteration: number; total: number; seconds: number; aborted: boolean };

/** Options of {@link train}. */
export interface TrainOptions {
  /** Receives the training events. */
  onProgress?: (e: TrainEvent) => void;
  /** Stop after the current iteration (a checkpoint is written first). */
  signal?: AbortSignal;
  /** Resume from the latest checkpoint in <out>/checkpoints (true) or from the given file. */
  resume?: boolean | string;
  /** Datasets given directly (instead of, or overriding, config.data.train / data.val). */
  train?: Dataset | BatchSource;
  val?: Dataset | null;
  /**
   * Whether this process writes the TensorBoard event files (default true). In a multi-process
   * run only one process (rank 0) should.
   */
  isLogWriter?: boolean;
}

/** What {@link train} returns. */
export interface TrainResult {
  iteration: number;
  aborted: boolean;
  seconds: number;
  /** The last validation, when there was one. */
  validation: ValidationResult | null;
  /** out/model.safetensors (and model-ema.safetensors) when the run finished. */
  modelPath: string | null;
  emaPath: string | null;
}

/** Build the lr schedule of a stage on `opt` (whose lr becomes the stage's). */
export function makeScheduler(opt: LROptimizer, s: ScheduleConfig, lr: number, iters: number): LRScheduler {
  opt.lr = lr;
  const rest = iters - s.warmup;
  const main =
    s.type === 'cosine'
      ? new CosineAnnealingLR(opt, { tMax: rest, etaMin: s.etaMin, baseLr: lr })
      : s.type === 'restarts'
        ? new CosineAnnealingWarmRestarts(opt, { t0: s.period!, tMult: s.periodMult, etaMin: s.etaMin, baseLr: lr })
        : new ConstantLR(opt, { factor: 1, totalIters: 0, baseLr: lr });
  if (!s.warmup) return main;
  const warm = new LinearLR(opt, { startFactor: s.warmupStart, endFactor: 1, totalIters: s.warmup, baseLr: lr });
  return new SequentialLR(opt, [warm, main], [s.warmup]);
}

/**
 * The MPF-Net training loop over stages, with validation, checkpoints and exact resume (docs/training.md).
 */
export class Trainer {
  readonly config: TrainConfig;
  readonly outDir: string;
  readonly model: MPFNet;
  readonly optimizer: Adam;
  readonly ema: EMA<MPFNet> | null;
  readonly log: JsonlLog;
  /** Distributed: this process's place in the job (one process: rank 0 of 1). */
  readonly group: ProcessGroup;
  /** The gradient all-reduce of the last step (null in a single process). */
  lastAllreduce: AllreduceStats | null = null;
  iteration = 0;
  seconds = 0;
  best: TrainState['best'] = null;
  lastValidation: ValidationResult | null = null;
  readonly #source: BatchSource;
  readonly #val: Dataset | null;
  readonly #lossRng: Generator;
  readonly #onProgress: (e: TrainEvent) => void;
  #stageIndex = -1;
  #scheduler: LRScheduler | null = null;
  #losses: [string, number, LossTerm][] = [];
  // TensorBoard: open while run() runs, when config.log.tensorboard and isLogWriter.
  readonly #isLogWriter: boolean;
  #board: TrainingBoard | null = null;

  private constructor(config: TrainConfig, model: MPFNet, source: BatchSource, val: Dataset | null, o: TrainOptions, group: ProcessGroup) {
    this.config = config;
    this.group = group;
    this.outDir = resolve(config.baseDir, config.out);
    this.model = model;
    this.model.train();
    this.optimizer = new Adam(model.parameters(), { lr: config.stages[0]!.lr, betas: config.optimizer.betas, eps: config.optimizer.eps, weightDecay: config.optimizer.weightDecay });
    this.ema = config.ema ? new EMA(model, new MPFNet(model.config, { generator: new Generator(0) }), config.ema) : null;
    this.#source = source;
    this.#val = val;
    this.#lossRng = new Generator(config.seed).fork(2);
    this.#onProgress = o.onProgress ?? (() => {});
    // TensorBoard on rank 0 only (and not where the caller says another process writes logs).
    this.#isLogWriter = (o.isLogWriter ?? true) && group.isRoot;
    this.log = group.isRoot ? new JsonlLog(join(this.outDir, 'train.jsonl')) : new SilentLog(join(this.outDir, 'train.jsonl'));
  }

  /** Rank 0, the process that writes logs, validation results and checkpoints (true in a single process). */
  get isRoot(): boolean {
    return this.group.isRoot;
  }

  /**
   * Build the model (seeded, from config.init, or from the checkpoint being resumed), the datasets
   * and the optimiser; with `o.resume`, restore the whole training state.
   */
  static async create(config: TrainConfig, o: TrainOptions = {}): Promise<Trainer> {
    const outDir = resolve(config.baseDir, config.out);
    // Distributed: data.batch is the global batch; each rank takes batch / size of it.
    const group = processGroup();
    if (config.data.batch % group.size !== 0) throw new RangeError(`data.batch (${config.data.batch}) must divide evenly over the ${group.size} processes of this job`);
    if (group.size > 1 && o.train && 'next' in o.train) throw new RangeError('distributed training needs a Dataset (each rank takes its slice of every batch), not a BatchSource');
    let ck: TrainCheckpoint | null = null;
    if (o.resume) {
      const path = typeof o.resume === 'string' ? resolve(o.resume) : latestCheckpoint(join(outDir, 'checkpoints'));
      if (path) {
        if (!existsSync(path)) throw new RangeError(`resume: ${path} does not exist`);
        ck = loadTrainCheckpoint(path);
        if (JSON.stringify(ck.model) !== JSON.stringify(config.model)) throw new RangeError(`resume: ${path} was written for model ${JSON.stringify(ck.model)}, the config has ${JSON.stringify(config.model)}`);
      } else {
        o.onProgress?.({ type: 'warning', iteration: 0, message: `no checkpoint in ${join(outDir, 'checkpoints')}: starting from the beginning` });
      }
    }
    if (!ck) {
      const old = listCheckpoints(join(outDir, 'checkpoints'));
      if (old.length) {
        throw new RangeError(`${outDir} already holds checkpoints (up to ${old[old.length - 1]!.path}): resume with --resume, or choose another output folder (or delete it) to start over`);
      }
    }
    let model: MPFNet;
    if (ck) {
      model = new MPFNet(config.model, { generator: new Generator(0) });
      try {
        model.loadStateDict(ck.weights);
      } catch (e) {
        model.dispose();
        throw new RangeError(`resume: ${ck.path}: ${(e as Error).message}`);
      }
    } else if (config.init) {
      const path = resolve(config.baseDir, config.init);
      model = loadModel(path);
      if (JSON.stringify(model.config) !== JSON.stringify(config.model)) {
        const keys = Object.keys(config.model) as (keyof typeof config.model)[];
        const diff = keys.filter((k) => JSON.stringify(model.config[k]) !== JSON.stringify(config.model[k])).map((k) => `${k} ${JSON.stringify(model.config[k])} (config: ${JSON.stringify(config.model[k])})`);
        model.dispose();
        throw new RangeError(`init: ${path} holds a different model: ${diff.join(', ')}`);
      }
    } else {
      model = new MPFNet(config.model, { generator: new Generator(config.seed) });
    }
    const ctx = { scale: config.model.scale, baseDir: config.baseDir };
    let source: BatchSource;
    if (o.train && 'next' in o.train) source = o.train;
    else {
      const ds = o.train ?? (await createDataset(config.data.train, { ...ctx, patch: config.data.patch, augment: config.data.augment, split: 'train' }));
      // Batches are prepared on worker threads ahead of the step; the same batches as on this
      // thread (lib/data/loader.ts), so the worker count never changes a run.
      source = new DataLoader(ds, { batch: config.data.batch, seed: new Generator(config.seed).fork(1).seed, workers: config.data.workers ?? undefined, shard: { index: group.rank, count: group.size } });
    }
    let val: Dataset | null = null;
    if (!group.isRoot) val = null; // distributed: validation runs on rank 0 alone
    else if (o.val !== undefined) val = o.val;
    else if (config.data.val) val = await createDataset(config.data.val, { ...ctx, patch: config.validation.patch, augment: false, split: 'val' });
    const trainer = new Trainer(config, model, source, val, o, group);
    try {
      if (ck) await trainer.#restore(ck);
      // Distributed: same code, config and starting weights on every rank, or a clear error.
      await checkSameRun(group, { config: trainConfigToJson(config), weights: trainer.model.namedParameters() });
    } catch (e) {
      await trainer.close();
      throw e;
    }
    return trainer;
  }

  /** The checkpoint this trainer resumed from, if any. */
  resumedFrom: string | null = null;

  /** Iterations over all stages. */
  get totalIterations(): number {
    return this.config.stages.reduce((a, s) => a + s.iters, 0);
  }

  /** Where checkpoints go. */
  get checkpointDir(): string {
    return join(this.outDir, 'checkpoints');
  }

  /** The stage of iteration `it` and the iteration its stage starts at. */
  stageAt(it: number): { index: number; start: number } {
    let start = 0;
    for (const [index, s] of this.config.stages.entries()) {
      if (it < start + s.iters) return { index, start };
      start += s.iters;
    }
    return { index: this.config.stages.length - 1, start: start - this.config.stages[this.config.stages.length - 1]!.iters };
  }

  /** The current stage. */
  get stage(): StageConfig {
    return this.config.stages[Math.max(0, this.#stageIndex)]!;
  }

  async #enterStage(index: number, schedulerEpoch: number, lossState?: Record<string, unknown>): Promise<void> {
    for (const [, , t] of this.#losses) t.dispose?.();
    const s = this.config.stages[index]!;
    this.#losses = [];
    for (const [name, spec] of Object.entries(s.loss)) {
      // Loss terms also see the model, the output folder, the stage, whether it starts now
      // (fresh) and what the checkpoint recorded for them (the contrastive term's teacher and E).
      const ctx = { baseDir: this.config.baseDir, scale: this.config.model.scale, model: this.model, outDir: this.outDir, stage: s.name, fresh: schedulerEpoch === 0, state: lossState?.[name] };
      this.#losses.push([name, spec.weight, await createLossTerm(name, spec, ctx)]);
    }
    this.#scheduler = makeScheduler(this.optimizer, s.schedule, s.lr, s.iters);
    if (schedulerEpoch) this.#scheduler.loadStateDict({ lastEpoch: schedulerEpoch });
    this.#stageIndex = index;
  }

  /** One optimisation step on a batch (which it disposes). Returns the losses. */
  step(batch: Batch): { loss: number; losses: Record<string, number>; lr: number } {
    if (this.group.size > 1) throw new Error('Trainer.step: several processes must average gradients; use stepDistributed()');
    const lr = this.optimizer.lr;
    const out = this.#backward(batch);
    this.#update(out.loss);
    return { ...out, lr };
  }

  /**
   * Distributed: one step of the job: this rank's slice of the batch, gradients and
   * losses averaged over the ranks, the same update everywhere. `stop` from any rank stops all.
   */
  async stepDistributed(batch: Batch, stop = false): Promise<{ loss: number; losses: Record<string, number>; lr: number; stop: boolean }> {
    const lr = this.optimizer.lr;
    const out = this.#backward(batch);
    const names = Object.keys(out.losses);
    const avg = await averageGradients(this.group, this.model.parameters(), [out.loss, ...names.map((n) => out.losses[n]!)], stop);
    this.lastAllreduce = avg.stats;
    const losses = Object.fromEntries(names.map((n, i) => [n, avg.scalars[i + 1]!]));
    this.#update(avg.scalars[0]!);
    return { loss: avg.scalars[0]!, losses, lr, stop: avg.stop };
  }

  /** Forward, loss terms, backward on this process's batch (disposed). */
  #backward(batch: Batch): { loss: number; losses: Record<string, number> } {
    const out = tidy(() => {
      this.optimizer.zeroGrad();
      const sr = this.model.forward(batch.lr);
      let total: Tensor | null = null;
      const parts: [string, Tensor][] = [];
      for (const [name, weight, term] of this.#losses) {
        const v = term.compute({ sr, hr: batch.hr, lr: batch.lr, model: this.model, iteration: this.iteration, rng: this.#lossRng });
        parts.push([name, v]);
        const w = weight === 1 ? v : mulScalar(v, weight);
        total = total ? add(total, w) : w;
      }
      total!.backward();
      return { loss: total!.item(), losses: Object.fromEntries(parts.map(([n, v]) => [n, v.item()])) };
    });
    batch.lr.dispose();
    batch.hr.dispose();
    return out;
  }

  /** Adam, schedule and EMA after the gradients are final. */
  #update(loss: number): void {
    if (!Number.isFinite(loss)) throw new RangeError(`training diverged: the loss is ${loss} at iteration ${this.iteration + 1} (lower the lr?)`);
    this.optimizer.step();
    this.#scheduler!.step();
    this.ema?.update();
    this.iteration += 1;
  }

  /** Validate the EMA weights (or the model's) on the validation set; null without one. */
  validate(): ValidationResult | null {
    if (!this.#val) return null;
    const useEma = this.config.validation.useEma && this.ema !== null;
    const r = validate(useEma ? this.ema.shadow : this.model, this.#val, {
      yChannel: this.config.validation.yChannel,
      cropBorder: this.config.validation.cropBorder ?? this.config.model.scale,
      samples: this.#board ? { count: this.config.log.images, size: this.config.log.imageSize } : undefined,
    });
    this.#board?.logValidation(this.iteration, r); // TensorBoard
    this.lastValidation = r;
    if (!this.best || r.psnr > this.best.psnr) this.best = { psnr: r.psnr, iteration: this.iteration };
    this.log.append({ iteration: this.iteration, val: { psnr: r.psnr, ssim: r.ssim, weights: useEma ? 'ema' : 'model', images: r.images.length }, seconds: round(this.seconds) });
    this.#onProgress({ type: 'validation', iteration: this.iteration, psnr: r.psnr, seconds: r.seconds, weights: useEma ? 'ema' : 'model' });
    return r;
  }

  /** The training position for a checkpoint. */
  state(): TrainState {
    const { index, start } = this.stageAt(this.iteration);
    const sameStage = index === this.#stageIndex;
    return {
      iteration: this.iteration,
      stage: index,
      schedulerEpoch: sameStage ? this.#scheduler!.lastEpoch : this.iteration - start,
      samples: this.#source.position(),
      adam: { lr: this.optimizer.lr, steps: this.optimizer.stateDict().state.map((s) => s?.step ?? 0) },
      ema: this.ema ? this.ema.stateDict() : null,
      lossRng: this.#lossRng.getState(),
      seconds: this.seconds,
      threads: getNumThreads(),
      simd: simdLevel(),
      best: this.best,
      // What loss terms need to resume (by stage name, then term name).
      lossState: this.#lossState(),
      processes: this.group.size,
    };
  }

  #lossState(): TrainState['lossState'] {
    const terms = this.#losses.flatMap(([n, , t]) => (t.state ? [[n, t.state()] as const] : []));
    return terms.length ? { [this.stage.name]: Object.fromEntries(terms) } : undefined;
  }

  /** Write a checkpoint of the current iteration and prune old ones. */
  async saveCheckpoint(): Promise<string> {
    ensureDir(this.checkpointDir);
    const path = checkpointPath(this.checkpointDir, this.iteration);
    if (!this.isRoot) return path; // distributed: rank 0 writes it
    await saveTrainCheckpoint(path, { model: this.model, optimizer: this.optimizer, ema: this.ema, state: this.state() });
    await this.#board?.flush(); // TensorBoard: durable up to the checkpoint
    pruneCheckpoints(this.checkpointDir, this.config.checkpoint.keep);
    this.#onProgress({ type: 'checkpoint', iteration: this.iteration, path });
    return path;
  }

  /** Restore optimiser, EMA, schedule, data position and counters (the weights are loaded already). */
  async #restore(ck: TrainCheckpoint): Promise<void> {
    const s = ck.state;
    const path = ck.path;
    if (s.iteration > this.totalIterations) throw new RangeError(`resume: ${path} is at iteration ${s.iteration}, beyond the config's ${this.totalIterations}`);
    const differs: string[] = [];
    if (s.threads !== getNumThreads()) differs.push(`${s.threads} threads (this run: ${getNumThreads()}; use --threads ${s.threads})`);
    if (s.simd !== undefined && s.simd !== simdLevel()) differs.push(`${s.simd} kernels (this machine: ${simdLevel()})`);
    // Distributed: resuming under another process count is allowed (the data position is global);
    // sums over the batch then round differently, so it is a warning even when deterministic.
    if ((s.processes ?? 1) !== this.group.size && this.isRoot) {
      this.#onProgress({ type: 'warning', iteration: s.iteration, message: `the checkpoint was written by ${s.processes ?? 1} process(es), this job has ${this.group.size}: same samples, but sums round differently, so the last bits can differ from an uninterrupted run` });
    }
    if (differs.length) {
      const msg = `the checkpoint was written with ${differs.join(' and ')}: sums may round differently, so the result can differ in the last bits from an uninterrupted run`;
      if (this.config.deterministic) throw new RangeError(`resume: ${msg}; the config asks for determinism ("deterministic": false allows it)`);
      this.#onProgress({ type: 'warning', iteration: s.iteration, message: msg });
    }
    if (this.ema) {
      if (!ck.ema) throw new RangeError(`resume: ${path} has no EMA weights but the config enables the EMA`);
      this.ema.shadow.loadStateDict(ck.ema);
      for (const p of this.ema.shadow.parameters()) p.requiresGrad = false;
      this.ema.loadStateDict(s.ema ?? { updates: 0 });
    }
    const names = [...this.model.namedParameters()].map(([n]) => n);
    if (s.adam.steps.length !== names.length) throw new RangeError(`resume: ${path} has Adam steps for ${s.adam.steps.length} parameters, the model ${names.length}`);
    const created: Tensor[] = [];
    const mk = (m: Map<string, TensorRecord>, n: string) => {
      const r = m.get(n);
      if (!r) throw new RangeError(`resume: ${path} lacks the Adam moments of '${n}'`);
      const t = tensor(r.data, r.shape);
      created.push(t);
      return t;
    };
    try {
      this.optimizer.loadStateDict({
        lr: s.adam.lr,
        state: names.map((n, i) => (s.adam.steps[i]! > 0 ? { step: s.adam.steps[i]!, expAvg: mk(ck.expAvg, n), expAvgSq: mk(ck.expAvgSq, n) } : null)),
      });
    } finally {
      for (const t of created) t.dispose();
    }
    this.iteration = s.iteration;
    this.seconds = s.seconds;
    this.best = s.best ?? null;
    this.#source.seek(s.samples);
    this.#lossRng.setState(s.lossRng);
    const { index, start } = this.stageAt(s.iteration);
    await this.#enterStage(index, s.stage === index ? s.schedulerEpoch : s.iteration - start, s.lossState?.[this.config.stages[index]!.name]);
    this.log.truncateAfter(s.iteration);
    this.resumedFrom = path;
  }

  /** Run (or continue) training to the end of the last stage. */
  async run(o: { signal?: AbortSignal } = {}): Promise<TrainResult> {
    const total = this.totalIterations;
    ensureDir(this.outDir);
    if (this.iteration === 0 && !this.resumedFrom) {
      this.log.clear();
      if (this.isRoot) for (const stale of ['model.safetensors', 'model-ema.safetensors']) rmSync(join(this.outDir, stale), { force: true });
      if (this.#isLogWriter) rmSync(join(this.outDir, 'tb'), { recursive: true, force: true });
    }
    // TensorBoard: <out>/tb, one event file per run() call.
    if (this.config.log.tensorboard && this.#isLogWriter) this.#board = new TrainingBoard(join(this.outDir, 'tb'), this.iteration);
    if (this.isRoot) await writeFileAtomic(join(this.outDir, 'config.json'), trainConfigToJson(this.config));
    this.#onProgress({ type: 'start', iteration: this.iteration, total, resumedFrom: this.resumedFrom });
    const every = this.config.log.every;
    let window = { n: 0, loss: 0, losses: {} as Record<string, number> };
    let rateStart = performance.now();
    let rateIters = 0;
    let aborted = false;
    // Waiting for a batch from unref'd data workers (Atomics.waitAsync) does not keep Node alive
    // by itself; a referenced timer does, for as long as the loop runs.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      while (this.iteration < total) {
        // Distributed: a stop request travels with the gradients, so all ranks stop together.
        if (o.signal?.aborted && this.group.size === 1) {
          aborted = true;
          break;
        }
        const { index, start } = this.stageAt(this.iteration);
        if (index !== this.#stageIndex) {
          await this.#enterStage(index, this.iteration - start);
          this.#onProgress({ type: 'stage', iteration: this.iteration, stage: this.stage.name, index });
        }
        const src = this.#source as BatchSource & { nextAsync?(): Promise<Batch> };
        // Waiting for a batch lets signal handlers and timers run.
        const batch = src.nextAsync ? await src.nextAsync() : src.next();
        const t0 = performance.now();
        const r = this.group.size > 1 ? await this.stepDistributed(batch, o.signal?.aborted ?? false) : this.step(batch);
        this.seconds += (performance.now() - t0) / 1000;
        rateIters++;
        window.n++;
        window.loss += r.loss;
        for (const [k, v] of Object.entries(r.losses)) window.losses[k] = (window.losses[k] ?? 0) + v;
        const elapsed = (performance.now() - rateStart) / 1000;
        const itPerSec = elapsed > 0 ? rateIters / elapsed : 0;
        if (this.iteration % every === 0 || this.iteration === total) {
          const mean = (x: number) => x / window.n;
          this.log.append({
            iteration: this.iteration,
            stage: this.stage.name,
            loss: mean(window.loss),
            losses: Object.fromEntries(Object.entries(window.losses).map(([k, v]) => [k, mean(v)])),
            lr: r.lr,
            seconds: round(this.seconds),
            // Distributed: the last step's gradient all-reduce (wait for peers included).
            ...(this.lastAllreduce ? { allreduceMs: round(this.lastAllreduce.seconds * 1000), allreduceBytes: this.lastAllreduce.bytes } : {}),
          });
          this.#board?.logIteration(this.iteration, { loss: mean(window.loss), losses: Object.fromEntries(Object.entries(window.losses).map(([k, v]) => [k, mean(v)])), lr: r.lr, itPerSec }); // TensorBoard
          window = { n: 0, loss: 0, losses: {} };
        }
        this.#onProgress({ type: 'iteration', iteration: this.iteration, total, stage: this.stage.name, loss: r.loss, losses: r.losses, lr: r.lr, itPerSec, etaSeconds: itPerSec > 0 ? (total - this.iteration) / itPerSec : Infinity, seconds: this.seconds });
        if (elapsed > 30) {
          // The rate reflects the last ~30 s, not the whole run.
          rateStart = performance.now();
          rateIters = 0;
        }
        const v = this.config.validation.every;
        if (v && this.iteration % v === 0 && this.iteration !== total) this.validate();
        const c = this.config.checkpoint.every;
        if (c && this.iteration % c === 0 && this.iteration !== total) await this.saveCheckpoint();
        if ('stop' in r && r.stop) {
          aborted = true;
          break;
        }
        // Let signal handlers and timers run between iterations.
        await yieldToEventLoop();
      }
    } finally {
      clearInterval(keepAlive);
    }
    let modelPath: string | null = null;
    let emaPath: string | null = null;
    if (aborted) {
      if (this.iteration > 0) await this.saveCheckpoint();
    } else {
      if (this.#val) this.validate();
      await this.saveCheckpoint();
      modelPath = join(this.outDir, 'model.safetensors');
      if (this.isRoot) await this.model.save(modelPath, { iterations: String(this.iteration) });
      if (this.ema) {
        emaPath = join(this.outDir, 'model-ema.safetensors');
        if (this.isRoot) await this.ema.shadow.save(emaPath, { iterations: String(this.iteration), weights: 'ema' });
      }
    }
    await this.#closeBoard();
    this.#onProgress({ type: 'done', iteration: this.iteration, total, seconds: this.seconds, aborted });
    return { iteration: this.iteration, aborted, seconds: this.seconds, validation: this.lastValidation, modelPath, emaPath };
  }

  async #closeBoard(): Promise<void> {
    const board = this.#board;
    this.#board = null;
    await board?.close();
  }

  /** Free the model, EMA, optimiser state and loss terms; stop data workers; close the event file. */
  async close(): Promise<void> {
    // After a failed run() the event file is still open; its own error would hide the run's.
    await this.#closeBoard().catch(() => {});
    for (const [, , t] of this.#losses) t.dispose?.();
    this.#losses = [];
    this.optimizer.dispose();
    this.ema?.dispose();
    this.model.dispose();
    for (const d of [this.#source, this.#val]) await (d as { close?(): Promise<void> } | null)?.close?.();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Train per `config`; resumes when asked (from the latest checkpoint, or a given file). */
export async function train(config: TrainConfig, o: TrainOptions = {}): Promise<TrainResult> {
  try {
    const trainer = await Trainer.create(config, o);
    try {
      return await trainer.run({ signal: o.signal });
    } finally {
      await trainer.close();
    }
  } catch (e) {
    // Distributed: a failing rank ends the whole job (MPI_Abort) naming itself and the cause,
    // instead of leaving the other ranks waiting for it forever.
    let g: ProcessGroup;
    try {
      g = processGroup();
    } catch {
      throw e; // the group itself failed: that is the error
    }
    if (g.size > 1) g.abort(`mpfnet: rank ${g.rank} of ${g.size} failed: ${(e as Error)?.message ?? String(e)}`);
    throw e;
  }
}
