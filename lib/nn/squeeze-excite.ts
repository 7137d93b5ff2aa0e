// Squeeze-and-excitation (Hu et al., 2018), as docs/model.md §1 fixes it for MPF-Net:
//   s = sigmoid(fc2(relu(fc1(mean over H, W of x))))  ;  y = x · s per channel
// with fc1: C -> max(⌊C / reduction⌋, minHidden) (4 by default, so narrow models keep some capacity).
import { mean, mul, relu, reshape, sigmoid, squeezeExcite, squeezeExciteInPlace, squeezeExciteScales } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import type { InitOptions } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/** Options of a {@link SqueezeExcite} layer. */
export interface SqueezeExciteOptions extends InitOptions {
  reduction?: number;
  minHidden?: number;
}

/** The hidden width of squeeze-excitation: max(⌊channels / reduction⌋, minHidden). */
export function seHidden(channels: number, reduction = 16, minHidden = 4): number {
  return Math.max(Math.floor(channels / reduction), minHidden);
}

/** Squeeze-and-excitation: channel weights from the spatial mean, through two linear layers. */
export class SqueezeExcite extends Module {
  readonly channels: number;
  readonly hidden: number;
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(channels: number, o: SqueezeExciteOptions = {}) {
    super();
    const reduction = o.reduction ?? 16;
    if (!Number.isSafeInteger(reduction) || reduction < 1) throw new RangeError(`SqueezeExcite: reduction must be a positive integer, got ${reduction}`);
    this.channels = channels;
    this.hidden = seHidden(channels, reduction, o.minHidden ?? 4);
    this.fc1 = this.registerModule('fc1', new Linear(channels, this.hidden, o));
    this.fc2 = this.registerModule('fc2', new Linear(this.hidden, channels, o));
  }

  /**
   * Scale the channels of `x`, with the fused op (2 kernels forward, 3 backward); the composite
   * path where the CUDA kernel's width limit (1024 channels or hidden units) is exceeded.
   * `means`: x's spatial means when the layer before made them (Conv2d.forwardWithMeans).
   */
  forward(x: Tensor, means: Tensor | null = null): Tensor {
    if (x.device === 'cuda' && Math.max(this.channels, this.hidden) > 1024) return this.forwardComposite(x);
    return squeezeExcite(x, this.fc1.weight, this.fc1.bias, this.fc2.weight, this.fc2.bias, means);
  }

  /**
   * {@link SqueezeExcite.forward} written into x (CPU, tape off: inference), bit for bit the same
   * values; x is returned.
   */
  forwardInPlace(x: Tensor, means: Tensor | null = null): Tensor {
    squeezeExciteInPlace(x, this.fc1.weight, this.fc1.bias, this.fc2.weight, this.fc2.bias, means);
    return x;
  }

  /**
   * The channel scales (N, C) for the map whose spatial means (N, C) are given, without scaling it
   * (CPU, tape off): for inference to fold them into what reads the map (squeezeExciteScales).
   */
  scales(means: Tensor): Tensor {
    return squeezeExciteScales(means, this.fc1.weight, this.fc1.bias, this.fc2.weight, this.fc2.bias);
  }

  /** The same as {@link SqueezeExcite.forward} from separate ops (mean, linear, relu, linear, sigmoid, mul). */
  forwardComposite(x: Tensor): Tensor {
    const [n, c] = x.shape as [number, number];
    const squeezed = mean(x, [2, 3]);
    const s = sigmoid(this.fc2.forward(relu(this.fc1.forward(squeezed))));
    return mul(x, reshape(s, [n, c, 1, 1]));
  }

  /** Multiply-adds per image. */
  macs(): number {
    return this.fc1.macs() + this.fc2.macs();
  }
}
