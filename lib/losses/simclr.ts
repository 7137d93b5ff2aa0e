// SimCLR for pretraining the embedding network E (docs/model.md §3, ContraD's recipe): two augmented views
// of each HR patch, NT-Xent with τ = 0.1 on E's projections.
//   augmentations (torchvision's, on planar float images in [0, 1]): random resized crop (area
//   0.2–1.0 of the patch, aspect 3/4–4/3, resized to `size` by bilinear imresize), horizontal flip
//   p 0.5, colour jitter (brightness, contrast, saturation 0.4, hue 0.1, in random order) p 0.8,
//   greyscale p 0.2.
//   NT-Xent: z = normalize(cat(z1, z2)); for each of the 2B rows, −log of the softmax over the
//   other 2B − 1 rows (similarities / τ) at its partner row; the mean over the rows.
// Every random choice comes from the caller's Generator, in a fixed order, so a sample is a pure
// function of (image, generator state).
import { noGrad, tidy } from '../autograd/scope.js';
import type { PlanarImage } from '../data/planar.js';
import { add, cat, clamp, div, imresize, linear, logSumExp, mean, mul, mulScalar, split, sqrt, square, sub, sum, tensor } from '../ops/index.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';

/** SimCLR's augmentations for pretraining E. */
export interface SimclrAugment {
  /** Area fraction of the random resized crop. */
  scale: [number, number];
  /** Aspect ratio (w / h) range of the crop. */
  ratio: [number, number];
  /** Probability of a horizontal flip. */
  hflip: number;
  /** Colour jitter strengths: brightness, contrast, saturation, hue. */
  jitter: [number, number, number, number];
  /** Probability of applying the colour jitter. */
  jitterP: number;
  /** Probability of greyscale. */
  greyP: number;
}

/** ContraD's SimCLR augmentations (docs/model.md §3). */
export const SIMCLR_AUGMENT: Readonly<SimclrAugment> = Object.freeze({
  scale: [0.2, 1.0] as [number, number],
  ratio: [3 / 4, 4 / 3] as [number, number],
  hflip: 0.5,
  jitter: [0.4, 0.4, 0.4, 0.1] as [number, number, number, number],
  jitterP: 0.8,
  greyP: 0.2,
});

const uniform = (rng: Generator, lo: number, hi: number) => lo + (hi - lo) * rng.next();

/** torchvision's RandomResizedCrop.get_params: [top, left, h, w] of the crop. */
export function resizedCropBox(height: number, width: number, a: Pick<SimclrAugment, 'scale' | 'ratio'>, rng: Generator): [number, number, number, number] {
  const area = height * width;
  const logRatio = [Math.log(a.ratio[0]), Math.log(a.ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * uniform(rng, a.scale[0], a.scale[1]);
    const aspect = Math.exp(uniform(rng, logRatio[0]!, logRatio[1]!));
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) return [rng.nextInt(height - h + 1), rng.nextInt(width - w + 1), h, w];
  }
  // Fallback: a centred crop with the ratio clamped into range.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < a.ratio[0]) h = Math.round(w / a.ratio[0]);
  else if (inRatio > a.ratio[1]) w = Math.round(h * a.ratio[1]);
  return [Math.floor((height - h) / 2), Math.floor((width - w) / 2), h, w];
}

const clip01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
const grey = (r: number, g: number, b: number) => 0.2989 * r + 0.587 * g + 0.114 * b;

function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  let h = 0;
  if (d > 0) {
    if (max === r) h = ((g - b) / d) % 6;
    else if (max === g) h = (b - r) / d + 2;
    else h = (r - g) / d + 4;
    h /= 6;
    if (h < 0) h += 1;
  }
  return [h, max > 0 ? d / max : 0, max];
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  switch (((i % 6) + 6) % 6) {
    case 0: return [v, t, p];
    case 1: return [q, v, p];
    case 2: return [p, v, t];
    case 3: return [p, q, v];
    case 4: return [t, p, v];
    default: return [v, p, q];
  }
}

/** Colour-jitter strengths: brightness, contrast, saturation, hue. */
export interface JitterParams {
  /** The order of brightness (0), contrast (1), saturation (2), hue (3). */
  order: number[];
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

/** torchvision's ColorJitter.get_params: a random order, then the four factors. */
export function drawJitter(strength: readonly [number, number, number, number], rng: Generator): JitterParams {
  const [bs, cs, ss, hs] = strength;
  const order = [0, 1, 2, 3];
  for (let i = 3; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return {
    order,
    brightness: uniform(rng, Math.max(0, 1 - bs), 1 + bs),
    contrast: uniform(rng, Math.max(0, 1 - cs), 1 + cs),
    saturation: uniform(rng, Math.max(0, 1 - ss), 1 + ss),
    hue: uniform(rng, -hs, hs),
  };
}

/** Apply a colour jitter to a planar RGB image in place (torchvision's formulas, clamped to [0, 1]). */
export function colorJitter(img: PlanarImage, p: JitterParams): void {
  const d = img.data;
  const n = img.height * img.width;
  for (const op of p.order) {
    if (op === 0) for (let i = 0; i < d.length; i++) d[i] = clip01(d[i]! * p.brightness);
    else if (op === 1) {
      let m = 0;
      for (let i = 0; i < n; i++) m += grey(d[i]!, d[n + i]!, d[2 * n + i]!);
      m /= n;
      for (let i = 0; i < d.length; i++) d[i] = clip01(p.contrast * d[i]! + (1 - p.contrast) * m);
    } else if (op === 2) {
      for (let i = 0; i < n; i++) {
        const g = grey(d[i]!, d[n + i]!, d[2 * n + i]!);
        for (let ch = 0; ch < 3; ch++) d[ch * n + i] = clip01(p.saturation * d[ch * n + i]! + (1 - p.saturation) * g);
      }
    } else if (p.hue !== 0) {
      for (let i = 0; i < n; i++) {
        const [h, sat, v] = rgbToHsv(d[i]!, d[n + i]!, d[2 * n + i]!);
        const [r, g, bl] = hsvToRgb((h + p.hue + 1) % 1, sat, v);
        d[i] = r;
        d[n + i] = g;
        d[2 * n + i] = bl;
      }
    }
  }
}

/** One augmented view (3, size, size) of a planar RGB patch. Draw order: crop, flip, jitter (p, params), greyscale. */
export function simclrView(patch: PlanarImage, size: number, a: SimclrAugment, rng: Generator): PlanarImage {
  const [top, left, h, w] = resizedCropBox(patch.height, patch.width, a, rng);
  const flip = rng.next() < a.hflip;
  const crop = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) crop[(c * h + y) * w + x] = patch.data[(c * patch.height + top + y) * patch.width + left + (flip ? w - 1 - x : x)]!;
  const resized = noGrad(() => tidy(() => clamp(imresize(tensor(crop, [1, 3, h, w]), { size: [size, size], kernel: 'linear' }), 0, 1).toFloat32Array()));
  const view: PlanarImage = { data: resized, channels: 3, height: size, width: size };
  // The jitter's parameters are drawn whether or not it applies, so the draw order is fixed.
  const jitter = rng.next() < a.jitterP;
  const params = drawJitter(a.jitter, rng);
  if (jitter) colorJitter(view, params);
  if (rng.next() < a.greyP) {
    const n = size * size;
    const d = view.data;
    for (let i = 0; i < n; i++) d[i] = d[n + i] = d[2 * n + i] = grey(d[i]!, d[n + i]!, d[2 * n + i]!);
  }
  return view;
}

/**
 * NT-Xent (SimCLR's normalised temperature-scaled cross entropy) of two views' projections
 * z1, z2 (B, D) -> shape [1]. Row i of z1 and row i of z2 are each other's positive.
 */
export function ntXent(z1: Tensor, z2: Tensor, tau = 0.1): Tensor {
  if (z1.rank !== 2 || z1.shape.some((d, i) => d !== z2.shape[i])) throw new RangeError(`ntXent: z1 [${z1.shape.join(', ')}] and z2 [${z2.shape.join(', ')}] must be (B, D) of one shape`);
  if (!(tau > 0)) throw new RangeError(`ntXent: tau must be > 0, got ${tau}`);
  const b = z1.shape[0]!;
  const z = cat([z1, z2], 0);
  const zn = div(z, clamp(sqrt(sum(square(z), 1, true)), 1e-12));
  const sim = mulScalar(linear(zn, zn), 1 / tau);
  // The diagonal (a row with itself) is left out of each softmax.
  const mask = new Float64Array(4 * b * b);
  for (let i = 0; i < 2 * b; i++) mask[i * 2 * b + i] = -1e9;
  const logits = add(sim, tensor(mask, [2 * b, 2 * b], { dtype: z.dtype, device: z.device }));
  // Each row's positive logit; rows i and B + i share it, so its mean over 2B rows is this mean.
  const [a, p] = split(zn, [b, b], 0) as [Tensor, Tensor];
  const pos = mulScalar(sum(mul(a, p), 1), 1 / tau);
  return sub(mean(logSumExp(logits, 1)), mean(pos));
}
