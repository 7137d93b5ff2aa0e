// Module: PyTorch's nn.Module reduced to what MPF-Net needs. A module owns parameters and child
// modules in registration order, so namedParameters() walks them exactly like PyTorch's
// state_dict(): own parameters first, then each child with "<child>." prepended. That order is
// also the order of seeded initialisation and of checkpoint files.
import { keep } from '../autograd/scope.js';
import { tensor } from '../ops/creation.js';
import type { Device, DType, Tensor } from '../tensor.js';

/** A state-dict value: a tensor, or raw data with a shape (as read from a safetensors file). */
export type StateValue = Tensor | { shape: readonly number[]; data: Float32Array | Float64Array };

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateOptions {
  /** Missing and unexpected keys are errors (default true); shape mismatches always are. */
  strict?: boolean;
}

/**
 * The base of layers and models: named parameters and children, state dicts, train/eval mode, device moves,
 * disposal.
 */
export abstract class Module {
  /** Training mode (train()) or evaluation mode (eval()). */
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /** Register (or replace) a parameter: a leaf that requires a gradient and outlives tidy(). */
  protected registerParameter(name: string, t: Tensor): Tensor {
    if (name.includes('.') || name === '') throw new TypeError(`registerParameter: invalid name '${name}'`);
    t.requiresGrad = true;
    keep(t);
    this.#params.set(name, t);
    return t;
  }

  /** Register a child module under `name` (a number for list-like containers). */
  protected registerModule<M extends Module>(name: string, m: M): M {
    if (name.includes('.') || name === '') throw new TypeError(`registerModule: invalid name '${name}'`);
    if (this.#params.has(name)) throw new TypeError(`registerModule: '${name}' is already a parameter`);
    this.#children.set(name, m);
    return m;
  }

  /** A parameter of this module (not of its children) by name. */
  protected param(name: string): Tensor {
    const t = this.#params.get(name);
    if (!t) throw new Error(`${this.constructor.name}: no parameter '${name}'`);
    return t;
  }

  /** (name, parameter) pairs in PyTorch state-dict order. */
  *namedParameters(prefix = ''): IterableIterator<[string, Tensor]> {
    for (const [n, t] of this.#params) yield [prefix + n, t];
    for (const [n, m] of this.#children) yield* m.namedParameters(`${prefix}${n}.`);
  }

  /** Every parameter of this module and its children. */
  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, t]) => t);
  }

  /** Number of parameter elements. */
  numParameters(): number {
    let n = 0;
    for (const [, t] of this.namedParameters()) n += t.numel;
    return n;
  }

  /** The direct children with their names. */
  *namedChildren(): IterableIterator<[string, Module]> {
    yield* this.#children;
  }

  /** The direct children. */
  children(): Module[] {
    return [...this.#children.values()];
  }

  /** Every module below (and including) this one, with dotted names ('' for this one). */
  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    yield [prefix.replace(/\.$/, ''), this];
    for (const [n, m] of this.#children) yield* m.namedModules(`${prefix}${n}.`);
  }

  /** Set training mode on this module and every child; returns this. */
  train(on = true): this {
    this.training = on;
    for (const m of this.#children.values()) m.train(on);
    return this;
  }

  /** Switch this module and its children to eval mode; returns this. */
  eval(): this {
    return this.train(false);
  }

  /** The device of the parameters ('cpu' for a module without any). */
  get device(): Device {
    const first = this.namedParameters().next();
    return first.done ? 'cpu' : first.value[1].device;
  }

  /** The dtype of the parameters. */
  get dtype(): DType {
    const first = this.namedParameters().next();
    return first.done ? 'float32' : first.value[1].dtype;
  }

  /**
   * Move every parameter to `device` (replacing the tensors: create optimisers after moving), with
   * its accumulated gradient, if any. Returns this.
   */
  to(device: Device): this {
    for (const [n, t] of this.#params) {
      if (t.device === device) continue;
      const moved = t.to(device);
      if (t.grad) moved.grad = keep(t.grad.to(device));
      t.dispose();
      this.registerParameter(n, moved);
    }
    for (const m of this.#children.values()) m.to(device);
    return this;
  }

  /** The parameters by name (the live tensors, not copies), in state-dict order. */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /**
   * Copy values into the parameters by name. Every problem is reported at once: missing keys,
   * unexpected keys (both only when strict) and shape mismatches. The parameter tensors are
   * replaced, so create optimisers after loading. Values are converted to the module's dtype.
   */
  loadStateDict(state: Map<string, StateValue> | Record<string, StateValue>, o: LoadStateOptions = {}): this {
    const strict = o.strict ?? true;
    const entries = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !entries.has(k));
    const unexpected = [...entries.keys()].filter((k) => !own.has(k));
    const misshaped: string[] = [];
    for (const [k, p] of own) {
      const v = entries.get(k);
      if (v && !sameShape(v.shape, p.shape)) misshaped.push(`'${k}': expected [${p.shape.join(', ')}], got [${v.shape.join(', ')}]`);
    }
    const problems: string[] = [];
    if (misshaped.length) problems.push(`shape mismatch for ${list(misshaped)}`);
    if (strict && missing.length) problems.push(`missing keys ${list(missing.map((k) => `'${k}'`))}`);
    if (strict && unexpected.length) problems.push(`unexpected keys ${list(unexpected.map((k) => `'${k}'`))}`);
    if (problems.length) throw new RangeError(`loadStateDict (${this.constructor.name}): ${problems.join('; ')}`);
    for (const [k, p] of own) {
      const v = entries.get(k);
      if (!v) continue;
      this.#replace(k, makeParameter(v, p.dtype, p.device));
      p.dispose();
    }
    return this;
  }

  #replace(dotted: string, t: Tensor): void {
    const parts = dotted.split('.');
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- a cursor that walks down from this module
    let m: Module = this;
    for (const part of parts.slice(0, -1)) m = m.#children.get(part)!;
    m.registerParameter(parts[parts.length - 1]!, t);
  }

  /** Drop every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const [, t] of this.namedParameters()) {
      t.grad?.dispose();
      t.grad = null;
    }
  }

  /** Free every parameter (and its gradient). The module is unusable afterwards. */
  dispose(): void {
    for (const [, t] of this.namedParameters()) t.dispose();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  // A 0-d tensor written by PyTorch ([]) loads into a one-element parameter ([1]).
  const na = a.length === 0 ? [1] : a;
  return na.length === b.length && na.every((d, i) => d === b[i]);
}

function list(xs: string[]): string {
  const shown = xs.slice(0, 8).join(', ');
  return xs.length > 8 ? `${shown} and ${xs.length - 8} more` : shown;
}

function makeParameter(v: StateValue, dtype: DType, device: Device): Tensor {
  if ('handle' in v) {
    const c = v.astype(dtype);
    if (device === c.device) return c;
    const moved = c.to(device);
    c.dispose();
    return moved;
  }
  return tensor(v.data, v.shape.length ? v.shape : [1], { dtype, device });
}
