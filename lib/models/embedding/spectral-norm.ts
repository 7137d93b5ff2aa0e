// Spectral normalisation (Miyato et al., 2018) as torch.nn.utils.spectral_norm computes it, so a
// PyTorch module's state dict loads here and both give the same numbers:
//   W = weight_orig viewed as (out, in·kh·kw); training: n times v = normalize(Wᵀu), u = normalize(Wv)
//   (u, v updated in place, no gradient); then σ = uᵀWv and weight = weight_orig / σ, with the
//   gradient flowing through σ to weight_orig (u and v are constants).
// In eval mode there is no power iteration: σ comes from the stored u and v. A frozen layer (the
// contrastive regulariser's E) computes weight / σ once and reuses it.
// Names: the parameter 'weight_orig' and the buffers 'weight_u', 'weight_v', as in PyTorch.
import { isGradEnabled, keep, noGrad, tidy } from '../../autograd/scope.js';
import { Module } from '../../nn/module.js';
import { defaultBias, defaultWeight, type InitOptions } from '../../nn/init.js';
import { clamp, conv2d, div, linear, matmul, mul, randn, reshape, sqrt, square, sum } from '../../ops/index.js';
import { getDefaultGenerator } from '../../random.js';
import type { Device, Tensor } from '../../tensor.js';

/** Options of spectral normalisation. */
export interface SpectralNormOptions extends InitOptions {
  /** Power iterations per training-mode forward (PyTorch's n_power_iterations, default 1). */
  powerIterations?: number;
  /** The normalisation's eps (default 1e-12, PyTorch's). */
  eps?: number;
}

/** t / max(‖t‖, eps), without recording the tape. */
function normalize(t: Tensor, eps: number): Tensor {
  return noGrad(() => div(t, clamp(sqrt(sum(square(t))), eps)));
}

/** The power-iteration state of one weight: u (out) and v (in·kh·kw). */
export class SpectralNorm {
  readonly rows: number;
  readonly cols: number;
  readonly powerIterations: number;
  readonly eps: number;
  u: Tensor;
  v: Tensor;
  #frozen: Tensor | null = null;

  constructor(weightShape: readonly number[], o: SpectralNormOptions = {}) {
    this.rows = weightShape[0]!;
    this.cols = weightShape.slice(1).reduce((a, b) => a * b, 1);
    this.powerIterations = o.powerIterations ?? 1;
    this.eps = o.eps ?? 1e-12;
    if (!Number.isSafeInteger(this.powerIterations) || this.powerIterations < 0) throw new RangeError(`SpectralNorm: powerIterations must be a non-negative integer, got ${this.powerIterations}`);
    if (!(this.eps > 0)) throw new RangeError(`SpectralNorm: eps must be > 0, got ${this.eps}`);
    const g = o.generator ?? getDefaultGenerator();
    const dtype = o.dtype ?? 'float32';
    this.u = keep(tidy(() => normalize(randn([this.rows], { generator: g, dtype }), this.eps)));
    this.v = keep(tidy(() => normalize(randn([this.cols], { generator: g, dtype }), this.eps)));
  }

  /** weight_orig / σ. Training: power iterations first (u and v change). Frozen: the cached value. */
  weight(orig: Tensor, training: boolean): Tensor {
    if (this.#frozen && !this.#frozen.isDisposed) return this.#frozen;
    if (training && this.powerIterations > 0) this.#iterate(orig);
    // Views of u and v enter the tape (they share the buffers' storage, which stays alive while
    // the graph needs it even after the next iteration replaces the buffers).
    const compute = () => {
      const u = noGrad(() => reshape(this.u, [1, this.rows]).detach());
      const v = noGrad(() => reshape(this.v, [1, this.cols]).detach());
      const sigma = sum(mul(matmul(u, reshape(orig, [this.rows, this.cols])), v));
      return div(orig, sigma);
    };
    // Without a graph to keep, free the temporaries now.
    return isGradEnabled() && orig.requiresGrad ? compute() : tidy(compute);
  }

  /** `iterations` power iterations on orig (no gradient): u and v move towards the top singular pair. */
  powerIterate(orig: Tensor, iterations: number): void {
    if (iterations > 0) this.#iterate(orig, iterations);
  }

  #iterate(orig: Tensor, iterations = this.powerIterations): void {
    const [u, v] = tidy(() =>
      noGrad(() => {
        const w = reshape(orig, [this.rows, this.cols]).detach();
        let u = this.u;
        let v = this.v;
        for (let i = 0; i < iterations; i++) {
          v = normalize(reshape(matmul(reshape(u, [1, this.rows]), w), [this.cols]), this.eps);
          u = normalize(reshape(matmul(w, reshape(v, [this.cols, 1])), [this.rows]), this.eps);
        }
        return [u, v];
      }),
    );
    this.setBuffers(u, v);
  }

  /** Replace u and v (they are kept alive; the old ones are freed). */
  setBuffers(u: Tensor, v: Tensor): void {
    if (u.numel !== this.rows || v.numel !== this.cols) throw new RangeError(`SpectralNorm: u must have ${this.rows} and v ${this.cols} elements, got ${u.numel} and ${v.numel}`);
    const oldU = this.u;
    const oldV = this.v;
    this.u = keep(u.rank === 1 ? u : reshape(u, [this.rows]));
    this.v = keep(v.rank === 1 ? v : reshape(v, [this.cols]));
    if (oldU !== this.u) oldU.dispose();
    if (oldV !== this.v) oldV.dispose();
    this.unfreeze();
  }

  /** Compute weight_orig / σ once (no iteration) and return it from weight() until unfreeze(). */
  freeze(orig: Tensor): void {
    this.unfreeze();
    this.#frozen = keep(noGrad(() => this.weight(orig, false)));
  }

  /** Return to power iteration on every training-mode forward. */
  unfreeze(): void {
    this.#frozen?.dispose();
    this.#frozen = null;
  }

  /** Move the u and v vectors to `device`. */
  to(device: Device): void {
    if (this.u.device === device) return;
    this.setBuffers(this.u.to(device), this.v.to(device));
  }

  /** Free the u and v vectors. */
  dispose(): void {
    this.unfreeze();
    this.u.dispose();
    this.v.dispose();
  }
}

/** Shared by the spectrally normalised layers: the weight, its SN state, the buffers by name. */
abstract class SNLayer extends Module {
  readonly sn: SpectralNorm;
  readonly #hasBias: boolean;

  protected constructor(weightShape: number[], bias: boolean, o: SpectralNormOptions) {
    super();
    this.registerParameter('weight_orig', defaultWeight(weightShape, o));
    this.#hasBias = bias;
    if (bias) this.registerParameter('bias', defaultBias(weightShape, o));
    this.sn = new SpectralNorm(weightShape, o);
  }

  /** The unnormalised weight (`weight_orig`), the trained parameter. */
  get weightOrig(): Tensor {
    return this.param('weight_orig');
  }
  /** The bias, or null. */
  get bias(): Tensor | null {
    return this.#hasBias ? this.param('bias') : null;
  }

  /** The normalised weight this forward uses. */
  weight(): Tensor {
    return this.sn.weight(this.weightOrig, this.training);
  }

  /** The buffers in PyTorch's order and names. */
  buffers(): [string, Tensor][] {
    return [['weight_u', this.sn.u], ['weight_v', this.sn.v]];
  }

  /** Fix σ from the stored u and v (no power iteration) until {@link SNConv2d.unfreeze}. */
  freeze(): void {
    this.sn.freeze(this.weightOrig);
  }

  /** Return to power iteration on every training-mode forward. */
  unfreeze(): void {
    this.sn.unfreeze();
  }

  override to(device: Device): this {
    super.to(device);
    this.sn.to(device);
    return this;
  }

  override dispose(): void {
    super.dispose();
    this.sn.dispose();
  }
}

/** Options of {@link SNConv2d}. */
export interface SNConv2dOptions extends SpectralNormOptions {
  stride?: number;
  padding?: number;
  bias?: boolean;
}

/** nn.Conv2d under spectral_norm: weight_orig (out, in, k, k), bias (out) when asked for. */
export class SNConv2d extends SNLayer {
  readonly stride: number;
  readonly padding: number;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, o: SNConv2dOptions = {}) {
    super([outChannels, inChannels, kernelSize, kernelSize], o.bias ?? false, o);
    this.stride = o.stride ?? 1;
    this.padding = o.padding ?? 0;
  }

  /** Convolve `x` with the spectrally normalised weight. */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight(), this.bias, { stride: this.stride, padding: this.padding });
  }

  /** MACs for one image of h × w. */
  macs(h: number, w: number): number {
    const oh = Math.floor((h + 2 * this.padding - this.kernelSize) / this.stride) + 1;
    const ow = Math.floor((w + 2 * this.padding - this.kernelSize) / this.stride) + 1;
    return oh * ow * this.outChannels * this.inChannels * this.kernelSize * this.kernelSize;
  }
}

/** nn.Linear under spectral_norm: weight_orig (out, in), bias (out). */
export class SNLinear extends SNLayer {
  constructor(readonly inFeatures: number, readonly outFeatures: number, o: SpectralNormOptions & { bias?: boolean } = {}) {
    super([outFeatures, inFeatures], o.bias ?? true, o);
  }

  /** Apply the spectrally normalised linear map to `x`. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight(), this.bias);
  }
}

export function isSNLayer(m: Module): m is SNConv2d | SNLinear {
  return m instanceof SNLayer;
}
