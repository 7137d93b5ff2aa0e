// Positive and negative samples for contrastive regularisation (docs/model.md §3, the paper's eqs. 7–8).
//   positives: K_P sharpened HR images D + f·(x − D), clamped to [0, 1] (PCL's: D = x smoothed by
//              [[1,1,1],[1,5,1],[1,1,1]]/13 with the outermost pixels kept, f ~ U(0.5, 3.0) per
//              sample; or an unsharp mask with a Gaussian D), the teacher's output, the GT
//   negatives: K_N HR images blurred by a random Gaussian (size from {3,5,7,9,11}, σx, σy ~
//              U(0.1, 2.0)) plus Gaussian noise σ ~ U(0, 10/255), clamped; the LR image
//              bicubic-upsampled to the HR size; optionally other images of the batch
// Every random choice is drawn from the caller's Generator in a fixed order (per image, per sample),
// the noise from its counters (native/cpu/cr_samples.cc), so a seed gives the same samples on every
// machine and a resumed run continues the same stream. Sample sets are n-major: the rows of image
// n are contiguous, `source[r]` names the image row r belongs to.
import { noGrad, tidy } from '../autograd/scope.js';
import { gaussianKernel } from '../data/kernels.js';
import type { MPFNet } from '../models/mpfnet/mpfnet.js';
import { cat, clamp, imresize, split, tensor } from '../ops/index.js';
import { crSamples } from '../ops/cr-samples.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';

/** How positives are sharpened: PCL's kernel or an unsharp mask. */
export type SharpenType = 'pcl' | 'unsharp';

/** How sharpened positives are made. */
export interface SharpenSpec {
  /** Each sharpened sample picks one of these uniformly: 'pcl' (SMOOTH kernel) or 'unsharp' (Gaussian). */
  types: SharpenType[];
  /** f ~ U(lo, hi) (PCL: 0.5–3.0; f < 1 softens, f > 1 sharpens). */
  factor: [number, number];
  /** σ of the unsharp mask's Gaussian ~ U(lo, hi); its kernel has 2·⌈3σ⌉ + 1 taps. */
  unsharpSigma: [number, number];
}

/** How blurred + noised negatives are made. */
export interface CrBlurSpec {
  /** Odd kernel sizes to pick from uniformly. */
  kernelSizes: number[];
  /** σx and σy, each ~ U(lo, hi) (axis-aligned Gaussian). */
  sigma: [number, number];
  /** Noise σ ~ U(lo, hi) per sample, in [0, 1] image units (default 0 – 10/255). */
  noise: [number, number];
  /** Clamp to [0, 1] (default true). */
  clip: boolean;
}

/** The default sharpening: PCL's kernel, f ~ U(0.5, 3.0). */
export const DEFAULT_SHARPEN: Readonly<SharpenSpec> = Object.freeze({ types: ['pcl'] as SharpenType[], factor: [0.5, 3.0] as [number, number], unsharpSigma: [0.5, 2.0] as [number, number] });
/** The default blur and noise of negatives (docs/model.md §3). */
export const DEFAULT_BLUR: Readonly<CrBlurSpec> = Object.freeze({ kernelSizes: [3, 5, 7, 9, 11], sigma: [0.1, 2.0] as [number, number], noise: [0, 10 / 255] as [number, number], clip: true });

/** A set of sample images (M, C, H, W) and the image each row belongs to. */
export interface SampleSet {
  images: Tensor;
  source: number[];
}

/** What was drawn for one generated sample (tests derive expected statistics from it). */
export interface SampleParams {
  source: number;
  kind: SharpenType | 'blur';
  /** The low-pass kernel D is made with (row-major, size × size). */
  kernel: Float64Array;
  size: number;
  factor: number;
  noise: number;
  /** The frame kept unfiltered (1 for 'pcl'). */
  keep: number;
}

/** PCL's smoothing kernel (PIL's ImageFilter.SMOOTH): [[1,1,1],[1,5,1],[1,1,1]] / 13. */
export function smoothKernel(): Float64Array {
  return Float64Array.from([1, 1, 1, 1, 5, 1, 1, 1, 1], (v) => v / 13);
}

const uniform = (rng: Generator, [lo, hi]: readonly [number, number]) => lo + (hi - lo) * rng.next();

/** The (M, K, K) kernel tensor, each kernel centred and zero-padded to the largest size. */
function kernelTensor(params: SampleParams[], like: Tensor): Tensor {
  const K = Math.max(...params.map((p) => p.size));
  const data = new Float64Array(params.length * K * K);
  params.forEach((p, m) => {
    const off = (K - p.size) / 2;
    for (let i = 0; i < p.size; i++) for (let j = 0; j < p.size; j++) data[m * K * K + (i + off) * K + j + off] = p.kernel[i * p.size + j]!;
  });
  return tensor(data, [params.length, K, K], { dtype: like.dtype, device: like.device });
}

function generate(x: Tensor, params: SampleParams[], clip: boolean, rng: Generator): Tensor {
  return noGrad(() =>
    tidy(() =>
      crSamples(x, kernelTensor(params, x), {
        source: params.map((p) => p.source),
        keep: params.map((p) => p.keep),
        factor: params.map((p) => p.factor),
        sigma: params.map((p) => p.noise),
        clip,
        generator: rng,
      }),
    ),
  );
}

/** The parameters of `count` sharpened samples per image (drawn in image, then sample order). */
export function drawSharpen(n: number, count: number, spec: SharpenSpec, rng: Generator): SampleParams[] {
  const out: SampleParams[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < count; k++) {
      const kind = spec.types[rng.nextInt(spec.types.length)]!;
      const factor = uniform(rng, spec.factor);
      if (kind === 'pcl') {
        out.push({ source: i, kind, kernel: smoothKernel(), size: 3, factor, noise: 0, keep: 1 });
      } else {
        const sigma = uniform(rng, spec.unsharpSigma);
        const size = 2 * Math.ceil(3 * sigma) + 1;
        out.push({ source: i, kind, kernel: gaussianKernel({ size, sigmaX: sigma }), size, factor, noise: 0, keep: 0 });
      }
    }
  }
  return out;
}

/** The parameters of `count` blurred + noised samples per image. */
export function drawBlur(n: number, count: number, spec: CrBlurSpec, rng: Generator): SampleParams[] {
  const out: SampleParams[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < count; k++) {
      const size = spec.kernelSizes[rng.nextInt(spec.kernelSizes.length)]!;
      const sigmaX = uniform(rng, spec.sigma);
      const sigmaY = uniform(rng, spec.sigma);
      const noise = uniform(rng, spec.noise);
      out.push({ source: i, kind: 'blur', kernel: gaussianKernel({ size, sigmaX, sigmaY }), size, factor: 0, noise, keep: 0 });
    }
  }
  return out;
}

/** K sharpened positives per image of hr (N, C, H, W) -> (N·K, C, H, W), n-major. */
export function sharpenedSamples(hr: Tensor, count: number, spec: SharpenSpec, rng: Generator): SampleSet & { params: SampleParams[] } {
  const params = drawSharpen(hr.shape[0]!, count, spec, rng);
  return { images: generate(hr, params, true, rng), source: params.map((p) => p.source), params };
}

/** K blurred + noised negatives per image of hr -> (N·K, C, H, W), n-major. */
export function blurredSamples(hr: Tensor, count: number, spec: CrBlurSpec, rng: Generator): SampleSet & { params: SampleParams[] } {
  const params = drawBlur(hr.shape[0]!, count, spec, rng);
  return { images: generate(hr, params, spec.clip, rng), source: params.map((p) => p.source), params };
}

/** The LR images bicubic-upsampled (MATLAB imresize, docs/model.md §4) to the HR size, clamped to [0, 1]. */
export function upsampledLR(lr: Tensor, hrSize: readonly [number, number]): SampleSet {
  const images = noGrad(() => tidy(() => clamp(imresize(lr, { size: [hrSize[0], hrSize[1]] }), 0, 1)));
  return { images, source: Array.from({ length: lr.shape[0]! }, (_, i) => i) };
}

/** The teacher's output for the LR batch (no gradient), clamped to [0, 1] like an image. */
export function teacherSamples(teacher: MPFNet, lr: Tensor): SampleSet {
  const images = noGrad(() => tidy(() => teacher.forwardImage(lr)));
  return { images, source: Array.from({ length: lr.shape[0]! }, (_, i) => i) };
}

/**
 * For each image, `count` other images of the batch (distinct, drawn without replacement):
 * Table VII's "random batch samples". count must be < N.
 */
export function otherImages(images: Tensor, count: number, rng: Generator): SampleSet {
  const n = images.shape[0]!;
  if (count < 1 || count > n - 1) throw new RangeError(`otherImages: need 1 to ${n - 1} other images per image in a batch of ${n}, got ${count}`);
  const picks: number[] = [];
  const source: number[] = [];
  for (let i = 0; i < n; i++) {
    const pool = Array.from({ length: n - 1 }, (_, j) => (j < i ? j : j + 1));
    for (let k = 0; k < count; k++) {
      const j = k + rng.nextInt(pool.length - k);
      [pool[k], pool[j]] = [pool[j]!, pool[k]!];
      picks.push(pool[k]!);
      source.push(i);
    }
  }
  const gathered = noGrad(() =>
    tidy(() => {
      const rows = split(images, 1, 0);
      return cat(picks.map((j) => rows[j]!), 0);
    }),
  );
  return { images: gathered, source };
}
