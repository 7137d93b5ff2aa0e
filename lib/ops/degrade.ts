// Degradation ops for making LR training images (kernels: native/cpu/degrade.cc). filter2d blurs
// each image with its own kernel (reflect-101 borders, like OpenCV's filter2D and Real-ESRGAN's
// filter2D) and is an autograd op in x; the noise ops are data augmentation and record no gradient.
import { native } from '../../bindings/index.js';
import { record } from '../autograd/tape.js';
import { getDefaultGenerator, type Generator } from '../random.js';
import { fromHandle, type Tensor } from '../tensor.js';

/**
 * Correlate every channel of image n of x (N, C, H, W) with kernel n of `kernel` (N, kh, kw), or
 * with one kernel (1, kh, kw) for all images; kh and kw odd; the output has x's shape.
 */
export function filter2d(x: Tensor, kernel: Tensor): Tensor {
  const y = fromHandle(native.filter2d(x.device, x.handle, kernel.handle));
  return record(y, 'filter2d', [x], (gy) => [fromHandle(native.filter2dBackward(gy.device, gy.handle, kernel.handle))]);
}

/** Options of {@link gaussianNoise} and {@link poissonNoise}. */
export interface NoiseOptions {
  /** Per image (or one value for all): the same noise on every channel (default false). */
  grey?: boolean | readonly boolean[];
  /** Clamp the result to [0, 1] (default true, as Real-ESRGAN does). */
  clip?: boolean;
  /** Advanced by N·C·H·W counters (default: the default generator). */
  generator?: Generator;
}

function perImage<T>(v: T | readonly T[], n: number, what: string): T[] {
  if (Array.isArray(v)) {
    if (v.length !== n) throw new RangeError(`${what}: expected ${n} values (one per image), got ${v.length}`);
    return [...v] as T[];
  }
  return Array.from({ length: n }, () => v as T);
}

function noise(kind: 'gaussianNoise' | 'poissonNoise', x: Tensor, amount: number | readonly number[], o: NoiseOptions): Tensor {
  if (x.rank !== 4) throw new RangeError(`${kind}: expected x (N, C, H, W), got [${x.shape.join(', ')}]`);
  const n = x.shape[0]!;
  const g = o.generator ?? getDefaultGenerator();
  const h = native[kind](x.device, x.handle, perImage(amount, n, kind), perImage(o.grey ?? false, n, `${kind} grey`), g.seed, g.offset, o.clip ?? true);
  g.take(x.numel);
  return fromHandle(h);
}

/** x + σ·N(0, 1), σ per image in x's units (e.g. 10/255). No gradient is recorded. */
export function gaussianNoise(x: Tensor, sigma: number | readonly number[], o: NoiseOptions = {}): Tensor {
  return noise('gaussianNoise', x, sigma, o);
}

/**
 * Real-ESRGAN's Poisson (shot) noise: the image rounded to 8 bits (q), v = 2^ceil(log2(number of
 * distinct values)), x + scale·(Poisson(v·q)/v − q). Grey noise is drawn on Y and added to every
 * channel. No gradient is recorded.
 */
export function poissonNoise(x: Tensor, scale: number | readonly number[], o: NoiseOptions = {}): Tensor {
  return noise('poissonNoise', x, scale, o);
}
