// Learning-rate schedules with PyTorch's closed forms (torch.optim.lr_scheduler), as functions of
// the step count t = lastEpoch, so a schedule's whole state is t and resuming is exact:
//   CosineAnnealingLR            eta_min + (base - eta_min)(1 + cos(pi t / T_max)) / 2
//   CosineAnnealingWarmRestarts  the same within each period T_i = T_0 · T_mult^i
//   LinearLR                     base · (start + (end - start) · min(t, total) / total)
//   ConstantLR                   base · factor for t < total, then base
//   SequentialLR                 one schedule after another, each restarted at its milestone
// step() is called once per iteration after optimizer.step(), as in PyTorch.

/** What a schedule drives: anything with a mutable lr (Adam). */
export interface LROptimizer {
  lr: number;
  /** The lr before any schedule (PyTorch's initial_lr); the first scheduler records it. */
  initialLr?: number;
}

/** A scheduler's position, for a checkpoint. */
export interface SchedulerState {
  lastEpoch: number;
}

/** The base of learning-rate schedules: sets the optimiser's lr at each step. */
export abstract class LRScheduler {
  readonly optimizer: LROptimizer;
  readonly baseLr: number;
  lastEpoch = 0;

  constructor(optimizer: LROptimizer, baseLr?: number) {
    this.optimizer = optimizer;
    if (optimizer.initialLr === undefined && !Object.isFrozen(optimizer)) optimizer.initialLr = optimizer.lr;
    this.baseLr = baseLr ?? optimizer.initialLr ?? optimizer.lr;
  }

  /** The lr at step t (closed form). */
  abstract lrAt(t: number): number;

  /** Advance one step and set the optimiser's lr. */
  step(): void {
    this.lastEpoch += 1;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }

  /** The lr set by the last step. */
  getLastLr(): number {
    return this.lrAt(this.lastEpoch);
  }

  /** The position, for a checkpoint. */
  stateDict(): SchedulerState {
    return { lastEpoch: this.lastEpoch };
  }

  /** Continue from a saved position. */
  loadStateDict(s: SchedulerState): void {
    if (!Number.isSafeInteger(s.lastEpoch) || s.lastEpoch < 0) throw new RangeError(`${this.constructor.name}.loadStateDict: lastEpoch must be a non-negative integer, got ${s.lastEpoch}`);
    this.lastEpoch = s.lastEpoch;
    this.optimizer.lr = this.lrAt(s.lastEpoch);
  }

  /** Called by subclasses once their fields are set: PyTorch's initial step to t = 0. */
  protected start(): void {
    this.optimizer.lr = this.lrAt(0);
  }
}

function positiveInt(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}`);
  return v;
}
function finite(v: number, what: string): number {
  if (!Number.isFinite(v)) throw new RangeError(`${what} must be a finite number, got ${v}`);
  return v;
}

/** Cosine annealing from the base lr to `etaMin` over `tMax` steps. */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: LROptimizer, o: { tMax: number; etaMin?: number; baseLr?: number }) {
    super(optimizer, o.baseLr);
    this.tMax = positiveInt(o.tMax, 'CosineAnnealingLR: tMax');
    this.etaMin = finite(o.etaMin ?? 0, 'CosineAnnealingLR: etaMin');
    this.start();
  }
  lrAt(t: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * t) / this.tMax))) / 2;
  }
}

/** Cosine annealing with warm restarts (SGDR). */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  readonly t0: number;
  readonly tMult: number;
  readonly etaMin: number;
  constructor(optimizer: LROptimizer, o: { t0: number; tMult?: number; etaMin?: number; baseLr?: number }) {
    super(optimizer, o.baseLr);
    this.t0 = positiveInt(o.t0, 'CosineAnnealingWarmRestarts: t0');
    this.tMult = positiveInt(o.tMult ?? 1, 'CosineAnnealingWarmRestarts: tMult');
    this.etaMin = finite(o.etaMin ?? 0, 'CosineAnnealingWarmRestarts: etaMin');
    this.start();
  }
  /** (position within the period, period length) at step t. */
  period(t: number): [number, number] {
    if (this.tMult === 1) return [t % this.t0, this.t0];
    // Integer search instead of PyTorch's log(): the same answer without rounding at period ends.
    let begin = 0;
    let len = this.t0;
    while (t >= begin + len) {
      begin += len;
      len *= this.tMult;
    }
    return [t - begin, len];
  }
  lrAt(t: number): number {
    const [cur, len] = this.period(t);
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * cur) / len))) / 2;
  }
}

/** Linear ramp of the lr from `startFactor` × lr to `endFactor` × lr over `totalIters` steps (a warm-up). */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;
  constructor(optimizer: LROptimizer, o: { startFactor?: number; endFactor?: number; totalIters?: number; baseLr?: number } = {}) {
    super(optimizer, o.baseLr);
    this.startFactor = o.startFactor ?? 1 / 3;
    this.endFactor = o.endFactor ?? 1;
    this.totalIters = positiveInt(o.totalIters ?? 5, 'LinearLR: totalIters');
    if (!(this.startFactor > 0 && this.startFactor <= 1)) throw new RangeError(`LinearLR: startFactor must be in (0, 1], got ${this.startFactor}`);
    if (!(this.endFactor >= 0 && this.endFactor <= 1)) throw new RangeError(`LinearLR: endFactor must be in [0, 1], got ${this.endFactor}`);
    this.start();
  }
  lrAt(t: number): number {
    const f = this.startFactor + ((this.endFactor - this.startFactor) * Math.min(t, this.totalIters)) / this.totalIters;
    return this.baseLr * f;
  }
}

/** A constant learning rate. */
export class ConstantLR extends LRScheduler {
  readonly factor: number;
  readonly totalIters: number;
  constructor(optimizer: LROptimizer, o: { factor?: number; totalIters?: number; baseLr?: number } = {}) {
    super(optimizer, o.baseLr);
    this.factor = o.factor ?? 1 / 3;
    this.totalIters = o.totalIters ?? 5;
    if (!(this.factor >= 0 && this.factor <= 1)) throw new RangeError(`ConstantLR: factor must be in [0, 1], got ${this.factor}`);
    if (!Number.isSafeInteger(this.totalIters) || this.totalIters < 0) throw new RangeError(`ConstantLR: totalIters must be a non-negative integer, got ${this.totalIters}`);
    this.start();
  }
  lrAt(t: number): number {
    return t < this.totalIters ? this.baseLr * this.factor : this.baseLr;
  }
}

/** Schedules one after another, switching at the given milestones. */
export class SequentialLR extends LRScheduler {
  readonly schedulers: LRScheduler[];
  readonly milestones: number[];
  constructor(optimizer: LROptimizer, schedulers: LRScheduler[], milestones: number[]) {
    super(optimizer);
    if (schedulers.length !== milestones.length + 1) throw new RangeError(`SequentialLR: ${schedulers.length} schedulers need ${schedulers.length - 1} milestones, got ${milestones.length}`);
    for (let i = 0; i < milestones.length; i++) {
      if (!Number.isSafeInteger(milestones[i]) || milestones[i]! < 1 || (i > 0 && milestones[i]! <= milestones[i - 1]!)) throw new RangeError(`SequentialLR: milestones must be increasing positive integers, got ${JSON.stringify(milestones)}`);
    }
    this.schedulers = schedulers;
    this.milestones = milestones;
    this.start();
  }
  lrAt(t: number): number {
    let k = 0;
    while (k < this.milestones.length && t >= this.milestones[k]!) k++;
    return this.schedulers[k]!.lrAt(k === 0 ? t : t - this.milestones[k - 1]!);
  }
}
