// nn.Conv2d: weight (out, in, kh, kw) and bias (out), PyTorch's default initialisation.
// forward also takes an array of tensors, read as their channel concatenation without building it
// (MPF-Net's blocks convolve concat(a, b)).
import { conv2d, conv2dFoldInputScales, conv2dWithMeans, type ConvActivation } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { defaultBias, defaultWeight, type InitOptions } from './init.js';
import { Module } from './module.js';

/** A size given once for both axes or as [h, w]. */
export type Pair = number | [number, number];

/** Options of a {@link Conv2d} layer. */
export interface Conv2dLayerOptions extends InitOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  bias?: boolean;
}

function pair(v: Pair, what: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : v;
  if (!p.every((x) => Number.isSafeInteger(x) && x >= 0)) throw new RangeError(`Conv2d: ${what} must be non-negative integers, got ${JSON.stringify(v)}`);
  return p;
}

/** A 2-D convolution layer with PyTorch's default initialisation. */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly #hasBias: boolean;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, o: Conv2dLayerOptions = {}) {
    super();
    for (const [n, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`Conv2d: ${n} must be a positive integer, got ${v}`);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair(kernelSize, 'kernelSize');
    if (this.kernelSize.some((k) => k < 1)) throw new RangeError(`Conv2d: kernelSize must be positive, got ${JSON.stringify(kernelSize)}`);
    this.stride = pair(o.stride ?? 1, 'stride');
    this.padding = pair(o.padding ?? 0, 'padding');
    this.dilation = pair(o.dilation ?? 1, 'dilation');
    if (this.stride.some((s) => s < 1) || this.dilation.some((d) => d < 1)) throw new RangeError('Conv2d: stride and dilation must be >= 1');
    const shape = [outChannels, inChannels, ...this.kernelSize];
    this.registerParameter('weight', defaultWeight(shape, o));
    this.#hasBias = o.bias ?? true;
    if (this.#hasBias) this.registerParameter('bias', defaultBias(shape, o));
  }

  /** The weight (out, in, kh, kw). */
  get weight(): Tensor {
    return this.param('weight');
  }
  /** The bias (out), or null. */
  get bias(): Tensor | null {
    return this.hasBias ? this.param('bias') : null;
  }
  /** Whether the layer has a bias. */
  get hasBias(): boolean {
    return this.#hasBias;
  }

  /**
   * Convolve `x`, or an array of tensors as their channel concatenation. `activation` ('selu') is
   * fused into the convolution's output (conv2d's ConvOptions.activation); default 'none'.
   */
  forward(x: Tensor | Tensor[], activation: ConvActivation = 'none'): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, activation });
  }

  /** {@link Conv2d.forward} and the mean of each output plane (N, out), for a squeeze-excitation next (conv2dWithMeans). */
  forwardWithMeans(x: Tensor | Tensor[], activation: ConvActivation = 'none'): { y: Tensor; means: Tensor } {
    return conv2dWithMeans(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, activation });
  }

  /**
   * {@link Conv2d.forward} of the inputs each scaled per channel first, x_j · s_j with s_j (1, C_j) or
   * null (no scale), for one image with the tape off (CPU): the scales go into a copy of the weight's
   * input channels instead (conv2dFoldInputScales), so no scaled map is ever written. MPF-Net's
   * inference passes its squeeze-excitations on this way (lib/models/mpfnet/cpb.ts).
   */
  forwardScaledInputs(xs: readonly Tensor[], scales: readonly (Tensor | null)[], activation: ConvActivation = 'none'): Tensor {
    if (scales.length !== xs.length) throw new RangeError(`Conv2d.forwardScaledInputs: ${xs.length} inputs but ${scales.length} scales`);
    if (scales.every((s) => s === null)) return this.forward([...xs], activation);
    if (xs.some((x) => x.shape[0] !== 1)) throw new RangeError('Conv2d.forwardScaledInputs: for one image (batch 1): the scales differ per image');
    const w = conv2dFoldInputScales(this.weight, xs.map((x, j) => scales[j] ?? x.shape[1]!));
    try {
      return conv2d([...xs], w, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, activation });
    } finally {
      w.dispose();
    }
  }

  /** Output (h, w) for an input (h, w). */
  outputSize(h: number, w: number): [number, number] {
    const o = (n: number, i: 0 | 1) => Math.floor((n + 2 * this.padding[i] - this.dilation[i] * (this.kernelSize[i] - 1) - 1) / this.stride[i]) + 1;
    return [o(h, 0), o(w, 1)];
  }

  /** Multiply-accumulates for one image of size (h, w): out_pixels · out · in · kh · kw. */
  macs(h: number, w: number): number {
    const [oh, ow] = this.outputSize(h, w);
    return oh * ow * this.outChannels * this.inChannels * this.kernelSize[0] * this.kernelSize[1];
  }
}
