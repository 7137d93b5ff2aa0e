// nn.Linear: weight (out, in) and bias (out), PyTorch's default initialisation.
import { linear } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { defaultBias, defaultWeight, type InitOptions } from './init.js';
import { Module } from './module.js';

/** Options of a {@link Linear} layer. */
export interface LinearOptions extends InitOptions {
  bias?: boolean;
}

/** A fully connected layer, y = x·Wᵀ + b, with PyTorch's default initialisation. */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly #hasBias: boolean;

  constructor(inFeatures: number, outFeatures: number, o: LinearOptions = {}) {
    super();
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`Linear: ${n} must be a positive integer, got ${v}`);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const shape = [outFeatures, inFeatures];
    this.registerParameter('weight', defaultWeight(shape, o));
    this.#hasBias = o.bias ?? true;
    if (this.#hasBias) this.registerParameter('bias', defaultBias(shape, o));
  }

  /** The weight (out, in). */
  get weight(): Tensor {
    return this.param('weight');
  }
  /** The bias (out), or null. */
  get bias(): Tensor | null {
    return this.#hasBias ? this.param('bias') : null;
  }

  /** Apply the layer to `x` (..., in). */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? undefined);
  }

  /** Multiply-accumulates per sample. */
  macs(): number {
    return this.inFeatures * this.outFeatures;
  }
}
