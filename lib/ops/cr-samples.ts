// The sample generator of contrastive regularisation (kernels: native/cpu/cr_samples.cc): M images
// y[m] = clip(D + f[m]·(x[source[m]] − D) + σ[m]·N(0, 1)) with D = kernels[m] ⊛ x[source[m]].
// lib/losses/samples.ts draws the parameters (docs/model.md §3's sharpened positives and blurred + noised
// negatives) and calls this once per kind of sample. No gradient: samples are constants of the loss.
import { native } from '../../bindings/index.js';
import { getDefaultGenerator, type Generator } from '../random.js';
import { fromHandle, type Tensor } from '../tensor.js';
import { checkTensor } from './check.js';

/** Options of {@link crSamples}. */
export interface CrSamplesOptions {
  /** The source image (index into x's batch) of each sample; one entry per kernel. */
  source: readonly number[];
  /** f per sample: 1 returns x (plus noise), 0 the filtered image, > 1 sharpens. */
  factor: readonly number[];
  /** Gaussian noise σ per sample, in x's units (default 0). */
  sigma?: readonly number[];
  /**
   * Per sample, the width of the frame along every edge where D = x (default 0). D reads the image
   * with reflect-101 borders elsewhere. PCL's sharpening (torchvision's adjust_sharpness) keeps 1.
   */
  keep?: readonly number[];
  /** Clamp to [0, 1] (default true). */
  clip?: boolean;
  /** Advanced by M·C·H·W counters whether or not any σ is positive (default: the default generator). */
  generator?: Generator;
}

/** M samples (M, C, H, W) from x (N, C, H, W) and kernels (M, kh, kw), kh and kw odd. */
export function crSamples(x: Tensor, kernels: Tensor, o: CrSamplesOptions): Tensor {
  checkTensor('crSamples', 'x', x);
  checkTensor('crSamples', 'kernels', kernels);
  const m = kernels.shape[0] ?? 0;
  const g = o.generator ?? getDefaultGenerator();
  const sigma = o.sigma ?? new Array<number>(m).fill(0);
  const keep = o.keep ?? new Array<number>(m).fill(0);
  const h = native.crSamples(x.device, x.handle, kernels.handle, o.source, keep, o.factor, sigma, g.seed, g.offset, o.clip ?? true);
  const y = fromHandle(h);
  g.take(y.numel);
  return y;
}
