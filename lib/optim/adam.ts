// Adam (Kingma & Ba), PyTorch's torch.optim.Adam semantics: bias-corrected moments, eps added
// after the square root of the corrected second moment, weight decay as L2 added to the gradient
// (or decoupled, AdamW, with `decoupled: true`). The update itself is one native kernel per
// parameter (lib/ops/adam.ts -> native/cpu/adam.cc), in place.
import { keep } from '../autograd/scope.js';
import { adamUpdate } from '../ops/adam.js';
import { zerosLike } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';

/** Options of {@link Adam} (torch.optim.Adam's). */
export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** AdamW: decay the weights directly instead of adding weightDecay·w to the gradient. */
  decoupled?: boolean;
}

/** One parameter's Adam state: step and moments. */
export interface AdamParamState {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

/** Adam's state for a checkpoint. */
export interface AdamStateDict {
  lr: number;
  /** The lr the optimiser was created with: schedulers start from it (PyTorch's initial_lr). */
  initialLr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  decoupled: boolean;
  /** Per parameter (same order as the constructor's list); null before its first step. */
  state: (AdamParamState | null)[];
}

function check(o: Required<AdamOptions>): void {
  const bad = (what: string, v: unknown) => {
    throw new RangeError(`Adam: invalid ${what}: ${JSON.stringify(v)}`);
  };
  if (!(Number.isFinite(o.lr) && o.lr >= 0)) bad('learning rate lr', o.lr);
  if (!(Number.isFinite(o.eps) && o.eps > 0)) bad('eps (must be > 0)', o.eps);
  if (!Array.isArray(o.betas) || o.betas.length !== 2) bad('betas', o.betas);
  for (const b of o.betas) if (!(b >= 0 && b < 1)) bad('beta (each must be in [0, 1))', o.betas);
  if (!(Number.isFinite(o.weightDecay) && o.weightDecay >= 0)) bad('weightDecay', o.weightDecay);
}

/** The Adam optimiser (AdamW with `decoupled`), on the native in-place update. */
export class Adam {
  readonly params: readonly Tensor[];
  lr: number;
  readonly initialLr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  #state: (AdamParamState | null)[];

  constructor(params: Iterable<Tensor>, o: AdamOptions = {}) {
    const full: Required<AdamOptions> = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupled: false, ...o };
    check(full);
    this.params = [...params];
    if (this.params.length === 0) throw new RangeError('Adam: got an empty parameter list');
    if (new Set(this.params).size !== this.params.length) throw new RangeError('Adam: a parameter appears twice in the list');
    for (const [i, p] of this.params.entries()) if (!p.isLeaf) throw new TypeError(`Adam: parameter ${i} is not a leaf tensor`);
    this.lr = full.lr;
    this.initialLr = full.lr;
    this.betas = [full.betas[0], full.betas[1]];
    this.eps = full.eps;
    this.weightDecay = full.weightDecay;
    this.decoupled = full.decoupled;
    this.#state = this.params.map(() => null);
  }

  /** Drop every parameter's gradient (set_to_none). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    if (!(Number.isFinite(this.lr) && this.lr >= 0)) throw new RangeError(`Adam.step: invalid learning rate ${this.lr}`);
    for (const [i, p] of this.params.entries()) {
      const g = p.grad;
      if (!g || g.isDisposed) continue;
      if (p.isDisposed) throw new TypeError(`Adam.step: parameter ${i} was disposed (create the optimiser after loading or moving the model)`);
      let s = this.#state[i];
      if (!s) {
        s = { step: 0, expAvg: keep(zerosLike(p)), expAvgSq: keep(zerosLike(p)) };
        this.#state[i] = s;
      }
      s.step += 1;
      adamUpdate(p, g, s.expAvg, s.expAvgSq, { lr: this.lr, beta1: this.betas[0], beta2: this.betas[1], eps: this.eps, weightDecay: this.weightDecay, step: s.step, decoupled: this.decoupled });
    }
  }

  /** The state (live moment tensors, not copies) and hyper-parameters. */
  stateDict(): AdamStateDict {
    return {
      lr: this.lr,
      initialLr: this.initialLr,
      betas: [...this.betas],
      eps: this.eps,
      weightDecay: this.weightDecay,
      decoupled: this.decoupled,
      state: this.#state.map((s) => (s ? { ...s } : null)),
    };
  }

  /**
   * Restore moments and the lr from stateDict() output or a checkpoint. The moment tensors are
   * copied (the caller keeps ownership of what it passes). Hyper-parameters given to the
   * constructor stay, except lr.
   */
  loadStateDict(sd: Pick<AdamStateDict, 'lr' | 'state'>): void {
    if (sd.state.length !== this.params.length) throw new RangeError(`Adam.loadStateDict: state has ${sd.state.length} entries, the optimiser ${this.params.length} parameters`);
    for (const [i, s] of sd.state.entries()) {
      if (!s) continue;
      const p = this.params[i]!;
      for (const [k, t] of [['expAvg', s.expAvg], ['expAvgSq', s.expAvgSq]] as const) {
        if (t.shape.length !== p.shape.length || t.shape.some((d, j) => d !== p.shape[j])) {
          throw new RangeError(`Adam.loadStateDict: ${k} of parameter ${i} has shape [${t.shape.join(', ')}], the parameter [${p.shape.join(', ')}]`);
        }
      }
      if (!Number.isSafeInteger(s.step) || s.step < 0) throw new RangeError(`Adam.loadStateDict: step of parameter ${i} must be a non-negative integer, got ${s.step}`);
    }
    this.#disposeState();
    this.#state = sd.state.map((s, i) => {
      if (!s) return null;
      const p = this.params[i]!;
      const copy = (t: Tensor) => {
        const c = t.astype(p.dtype);
        return keep(c.device === p.device ? c : c.to(p.device));
      };
      return { step: s.step, expAvg: copy(s.expAvg), expAvgSq: copy(s.expAvgSq) };
    });
    this.lr = sd.lr;
  }

  #disposeState(): void {
    for (const s of this.#state) {
      s?.expAvg.dispose();
      s?.expAvgSq.dispose();
    }
  }

  /** Free the moment tensors. */
  dispose(): void {
    this.#disposeState();
    this.#state = this.params.map(() => null);
  }
}
