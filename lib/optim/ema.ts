// An exponential moving average of a model's weights, used for validation and saved next to the
// weights: shadow <- d · shadow + (1 - d) · w after each optimiser step. With `warmup` the decay
// is min(d, (1 + n) / (10 + n)) after n updates (TensorFlow's num_updates rule), so the average
// is useful early in short runs instead of being dominated by the initial weights.
import { native } from '../../bindings/index.js';
import type { Module } from '../nn/module.js';
import { noGrad } from '../autograd/scope.js';

/** Options of {@link EMA}. */
export interface EMAOptions {
  decay?: number;
  warmup?: boolean;
}

/** The EMA's state for a checkpoint. */
export interface EMAState {
  updates: number;
}

/** An exponential moving average of a module's weights, kept in a copy of the module. */
export class EMA<M extends Module> {
  /** A module of the same structure holding the averaged weights (never requires gradients). */
  readonly shadow: M;
  readonly decay: number;
  readonly warmup: boolean;
  updates = 0;
  readonly #source: M;

  /** `shadow` must have the same structure as `model`; its weights are overwritten with model's. */
  constructor(model: M, shadow: M, o: EMAOptions = {}) {
    this.decay = o.decay ?? 0.999;
    this.warmup = o.warmup ?? true;
    if (!(this.decay >= 0 && this.decay < 1)) throw new RangeError(`EMA: decay must be in [0, 1), got ${this.decay}`);
    this.#source = model;
    this.shadow = shadow;
    shadow.loadStateDict(model.stateDict());
    for (const p of shadow.parameters()) p.requiresGrad = false;
    shadow.eval();
  }

  /** The decay the next update uses. */
  currentDecay(): number {
    return this.warmup ? Math.min(this.decay, (1 + this.updates) / (10 + this.updates)) : this.decay;
  }

  /** Fold the model's current weights into the average. */
  update(): void {
    const d = this.currentDecay();
    const src = this.#source.parameters();
    const dst = this.shadow.parameters();
    noGrad(() => {
      for (let i = 0; i < src.length; i++) {
        const s = dst[i]!;
        // s += (d - 1) s, then s += (1 - d) w: in place, no temporaries, deterministic.
        native.axpyInPlace(s.device, s.handle, s.handle, d - 1);
        native.axpyInPlace(s.device, s.handle, src[i]!.handle, 1 - d);
      }
    });
    this.updates += 1;
  }

  /** The state for a checkpoint. */
  stateDict(): EMAState {
    return { updates: this.updates };
  }

  /** Restore the update count; the averaged weights are loaded into `shadow` separately. */
  loadStateDict(s: EMAState): void {
    if (!Number.isSafeInteger(s.updates) || s.updates < 0) throw new RangeError(`EMA.loadStateDict: updates must be a non-negative integer, got ${s.updates}`);
    this.updates = s.updates;
  }

  /** Free the averaged copy. */
  dispose(): void {
    this.shadow.dispose();
  }
}
