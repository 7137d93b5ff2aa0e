// On-the-fly degradation of HR patches into LR ones, after Real-ESRGAN (Wang et al., 2021):
// blur -> resize -> noise -> JPEG, optionally twice (the "second-order" model). Every parameter is
// in the config (docs/datasets.md); every random choice comes from the sample's generator, so a
// sample is the same on every machine, thread and worker count. Per-pixel work runs in native
// kernels: blur = filter2d and noise = gaussianNoise / poissonNoise (lib/ops/degrade.ts), resizes
// = imresize (lib/ops/resize.ts); JPEG goes through sharp.
//
// Choices beyond Real-ESRGAN, for a CPU pipeline on patches:
// - the degradation runs on the HR crop (scale × the LR patch), not on a larger image;
// - resize modes map to imresize: 'bicubic' = MATLAB bicubic with antialiasing (docs/model.md §4),
//   'bilinear' = linear without antialiasing (as torch's F.interpolate), 'area' = box with
//   antialiasing (pixel-area averaging);
// - JPEG quality is an integer, 4:2:0 chroma (libjpeg through sharp, not DiffJPEG);
// - blur kernels are Gaussian only (isotropic and anisotropic; no generalised/plateau/sinc).
import sharp from 'sharp';
import { noGrad, tidy } from '../autograd/scope.js';
import { tensor } from '../ops/creation.js';
import { filter2d, gaussianNoise, poissonNoise } from '../ops/degrade.js';
import { imresize, type ImresizeOptions } from '../ops/resize.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { fail, isPlainObject, number, oneOf, rejectUnknown, describe } from '../util/validate.js';
import { gaussianKernel } from './kernels.js';
import type { PlanarImage } from './planar.js';

/** How a degradation pass resizes: MATLAB bicubic, bilinear without antialiasing, or pixel-area averaging. */
export type ResizeMode = 'bicubic' | 'bilinear' | 'area';
export const RESIZE_MODES: readonly ResizeMode[] = ['area', 'bilinear', 'bicubic'];
/** A closed interval [lo, hi] a value is drawn from uniformly. */
export type Range = [number, number];

/** The blur step of a degradation pass (see docs/datasets.md, "Degradation"). */
export interface BlurSpec {
  /** Probability of blurring at all. */
  prob: number;
  /** Kernel sizes: the odd sizes in this closed range, uniformly. */
  kernelSize: Range;
  /** σ range in pixels (σx and σy drawn independently for anisotropic kernels). */
  sigma: Range;
  /** Relative weights of isotropic and anisotropic kernels. */
  isotropic: number;
  anisotropic: number;
  /** Rotation range of anisotropic kernels, radians. */
  rotation: Range;
}

/** The resize step of a degradation pass. */
export interface ResizeSpec {
  /** Modes drawn uniformly. */
  modes: ResizeMode[];
  /**
   * null: resize straight to the LR size (HR / scale). A range: a random factor relative to the
   * pass's reference size (HR for the first pass, LR for the second), drawn as Real-ESRGAN does:
   * up (U(1, hi)), down (U(lo, 1)) or keep, with the probabilities `updown`.
   */
  scale: Range | null;
  updown: [number, number, number];
}

/** The noise step of a degradation pass: Gaussian or Poisson, colour or grey. */
export interface NoiseSpec {
  prob: number;
  /** Probability of Gaussian noise; otherwise Poisson. */
  gaussian: number;
  /** Gaussian σ range on the 0..255 scale. */
  sigma: Range;
  /** Poisson scale range. */
  poisson: Range;
  /** Probability that the noise is grey (the same on every channel). */
  grey: number;
}

/** The JPEG step of a degradation pass. */
export interface JpegSpec {
  prob: number;
  /** Quality range (integers drawn uniformly). */
  quality: Range;
}

/** One pass of blur, resize, noise and JPEG (each step optional). */
export interface PassSpec {
  blur: BlurSpec | null;
  resize: ResizeSpec;
  noise: NoiseSpec | null;
  jpeg: JpegSpec | null;
}

/** The Real-ESRGAN-style degradation of an `images` dataset (docs/datasets.md). */
export interface DegradationSpec {
  first: PassSpec;
  /** The second pass and the probability of running it; null: first-order model. */
  second: (PassSpec & { prob: number }) | null;
  /** Clamp to [0, 1] and round the LR to 8 bits at the end (as Real-ESRGAN does). */
  round: boolean;
}

/** Real-ESRGAN's first-order settings (train_realesrgan_x4plus.yml), resizing straight to the LR size. */
export const FIRST_PASS_DEFAULTS: PassSpec = {
  blur: { prob: 1, kernelSize: [7, 21], sigma: [0.2, 3], isotropic: 0.45, anisotropic: 0.25, rotation: [-Math.PI, Math.PI] },
  resize: { modes: [...RESIZE_MODES], scale: null, updown: [0.2, 0.7, 0.1] },
  noise: { prob: 1, gaussian: 0.5, sigma: [1, 30], poisson: [0.05, 3], grey: 0.4 },
  jpeg: { prob: 1, quality: [30, 95] },
};

/** Real-ESRGAN's second-order settings. */
export const SECOND_PASS_DEFAULTS: PassSpec & { prob: number } = {
  prob: 1,
  blur: { prob: 0.8, kernelSize: [7, 21], sigma: [0.2, 1.5], isotropic: 0.45, anisotropic: 0.25, rotation: [-Math.PI, Math.PI] },
  resize: { modes: [...RESIZE_MODES], scale: [0.3, 1.2], updown: [0.3, 0.4, 0.3] },
  noise: { prob: 1, gaussian: 0.5, sigma: [1, 25], poisson: [0.05, 2.5], grey: 0.4 },
  jpeg: { prob: 1, quality: [30, 95] },
};

/** The "realesrgan" preset: both passes, the first resizing by a random factor in [0.15, 1.5]. */
export function realEsrganPreset(): DegradationSpec {
  return {
    first: { ...structuredClone(FIRST_PASS_DEFAULTS), resize: { modes: [...RESIZE_MODES], scale: [0.15, 1.5], updown: [0.2, 0.7, 0.1] } },
    second: structuredClone(SECOND_PASS_DEFAULTS),
    round: true,
  };
}

// ---------------------------------------------------------------------------------------------
// Validation: a config value -> a complete spec (defaults filled in, everything checked).

function range(v: unknown, where: string, o: { min?: number; max?: number; integer?: boolean } = {}): Range {
  if (!Array.isArray(v) || v.length !== 2) fail(where, `must be a range [low, high], got ${describe(v)}`);
  const lo = number(v[0], `${where}[0]`, { min: o.min, max: o.max });
  const hi = number(v[1], `${where}[1]`, { min: o.min, max: o.max });
  if (lo > hi) fail(where, `low ${lo} is above high ${hi}`);
  if (o.integer && (!Number.isInteger(lo) || !Number.isInteger(hi))) fail(where, `must hold integers, got ${JSON.stringify(v)}`);
  return [lo, hi];
}

const prob = (v: unknown, where: string) => number(v, where, { min: 0, max: 1 });

/** A step: absent -> the default, null/false -> off, true -> the default, an object -> merged. */
function step<T extends object>(v: unknown, def: T | null, where: string, parse: (o: Record<string, unknown>, def: T, where: string) => T): T | null {
  if (v === undefined) return def ? structuredClone(def) : null;
  if (v === null || v === false) return null;
  const base = def ?? null;
  if (v === true) {
    if (!base) fail(where, 'has no default here; give its settings as an object');
    return structuredClone(base);
  }
  if (!isPlainObject(v)) fail(where, `must be an object, null or false, got ${describe(v)}`);
  if (!base) fail(where, 'has no default here');
  return parse(v, base, where);
}

function parseBlur(o: Record<string, unknown>, d: BlurSpec, where: string): BlurSpec {
  rejectUnknown(o, ['prob', 'kernelSize', 'sigma', 'isotropic', 'anisotropic', 'rotation'], where);
  const b: BlurSpec = {
    prob: o.prob === undefined ? d.prob : prob(o.prob, `${where}.prob`),
    kernelSize: o.kernelSize === undefined ? d.kernelSize : range(o.kernelSize, `${where}.kernelSize`, { min: 1, max: 201, integer: true }),
    sigma: o.sigma === undefined ? d.sigma : range(o.sigma, `${where}.sigma`, { min: 1e-3, max: 100 }),
    isotropic: o.isotropic === undefined ? d.isotropic : number(o.isotropic, `${where}.isotropic`, { min: 0 }),
    anisotropic: o.anisotropic === undefined ? d.anisotropic : number(o.anisotropic, `${where}.anisotropic`, { min: 0 }),
    rotation: o.rotation === undefined ? d.rotation : range(o.rotation, `${where}.rotation`),
  };
  const [lo, hi] = b.kernelSize;
  if (oddSizes(lo, hi).length === 0) fail(`${where}.kernelSize`, `[${lo}, ${hi}] holds no odd size`);
  if (b.isotropic + b.anisotropic <= 0) fail(where, 'isotropic + anisotropic must be positive');
  return b;
}

function parseResize(o: Record<string, unknown>, d: ResizeSpec, where: string): ResizeSpec {
  rejectUnknown(o, ['modes', 'scale', 'updown'], where);
  let modes = d.modes;
  if (o.modes !== undefined) {
    if (!Array.isArray(o.modes) || !o.modes.length) fail(`${where}.modes`, `must be a non-empty list of ${RESIZE_MODES.map((m) => JSON.stringify(m)).join(', ')}`);
    modes = o.modes.map((m, i) => oneOf(m, RESIZE_MODES, `${where}.modes[${i}]`));
  }
  const scale = o.scale === undefined ? d.scale : o.scale === null ? null : range(o.scale, `${where}.scale`, { min: 0.01, max: 16 });
  let updown = d.updown;
  if (o.updown !== undefined) {
    const u = o.updown;
    if (!Array.isArray(u) || u.length !== 3) fail(`${where}.updown`, `must be [up, down, keep] probabilities, got ${describe(u)}`);
    updown = u.map((p, i) => number(p, `${where}.updown[${i}]`, { min: 0 })) as [number, number, number];
    if (updown[0] + updown[1] + updown[2] <= 0) fail(`${where}.updown`, 'must not be all zero');
  }
  return { modes, scale, updown };
}

function parseNoise(o: Record<string, unknown>, d: NoiseSpec, where: string): NoiseSpec {
  rejectUnknown(o, ['prob', 'gaussian', 'sigma', 'poisson', 'grey'], where);
  return {
    prob: o.prob === undefined ? d.prob : prob(o.prob, `${where}.prob`),
    gaussian: o.gaussian === undefined ? d.gaussian : prob(o.gaussian, `${where}.gaussian`),
    sigma: o.sigma === undefined ? d.sigma : range(o.sigma, `${where}.sigma`, { min: 0, max: 255 }),
    poisson: o.poisson === undefined ? d.poisson : range(o.poisson, `${where}.poisson`, { min: 0, max: 100 }),
    grey: o.grey === undefined ? d.grey : prob(o.grey, `${where}.grey`),
  };
}

function parseJpeg(o: Record<string, unknown>, d: JpegSpec, where: string): JpegSpec {
  rejectUnknown(o, ['prob', 'quality'], where);
  return {
    prob: o.prob === undefined ? d.prob : prob(o.prob, `${where}.prob`),
    quality: o.quality === undefined ? d.quality : range(o.quality, `${where}.quality`, { min: 1, max: 100, integer: true }),
  };
}

function parsePass(o: Record<string, unknown>, d: PassSpec, where: string, extra: string[] = []): PassSpec {
  rejectUnknown(o, ['blur', 'resize', 'noise', 'jpeg', ...extra], where);
  const resize = o.resize === undefined ? structuredClone(d.resize) : isPlainObject(o.resize) ? parseResize(o.resize, d.resize, `${where}.resize`) : fail(`${where}.resize`, `must be an object (resizing cannot be turned off), got ${describe(o.resize)}`);
  return {
    blur: step(o.blur, d.blur, `${where}.blur`, parseBlur),
    resize,
    noise: step(o.noise, d.noise, `${where}.noise`, parseNoise),
    jpeg: step(o.jpeg, d.jpeg, `${where}.jpeg`, parseJpeg),
  };
}

/**
 * A degradation config -> a complete spec. undefined / "bicubic": null (plain MATLAB bicubic
 * downscaling, the classic SR setting); "realesrgan": the two-pass preset; an object: the
 * first-order defaults overridden field by field, with `second` for a second pass.
 */
export function parseDegradation(v: unknown, where: string): DegradationSpec | null {
  if (v === undefined || v === null || v === 'bicubic') return null;
  if (v === 'realesrgan') return realEsrganPreset();
  if (!isPlainObject(v)) fail(where, `must be "bicubic", "realesrgan" or an object of degradation settings, got ${describe(v)}`);
  rejectUnknown(v, ['blur', 'resize', 'noise', 'jpeg', 'second', 'round'], where);
  const { second, round, ...first } = v;
  const spec: DegradationSpec = { first: parsePass(first, FIRST_PASS_DEFAULTS, where), second: null, round: true };
  if (round !== undefined) {
    if (typeof round !== 'boolean') fail(`${where}.round`, `must be true or false, got ${describe(round)}`);
    spec.round = round;
  }
  if (second !== undefined && second !== null && second !== false) {
    const s = second === true ? {} : second;
    if (!isPlainObject(s)) fail(`${where}.second`, `must be an object, true, null or false, got ${describe(second)}`);
    const pass = parsePass(s, SECOND_PASS_DEFAULTS, `${where}.second`, ['prob']);
    spec.second = { ...pass, prob: s.prob === undefined ? SECOND_PASS_DEFAULTS.prob : prob(s.prob, `${where}.second.prob`) };
  }
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Random draws (all from the sample's generator, in a fixed order).

function oddSizes(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = lo; k <= hi; k++) if (k % 2 === 1) out.push(k);
  return out;
}

const uniform = (rng: Generator, [lo, hi]: Range) => lo + (hi - lo) * rng.next();

function pick<T>(rng: Generator, xs: readonly T[]): T {
  return xs[rng.nextInt(xs.length)]!;
}

function weighted(rng: Generator, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i]!;
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/** The blur kernel of one sample: its size, σs and rotation drawn from the spec. */
export function drawBlurKernel(b: BlurSpec, rng: Generator): { size: number; kernel: Float64Array } {
  const size = pick(rng, oddSizes(b.kernelSize[0], b.kernelSize[1]));
  const iso = weighted(rng, [b.isotropic, b.anisotropic]) === 0;
  const sigmaX = uniform(rng, b.sigma);
  if (iso) return { size, kernel: gaussianKernel({ size, sigmaX }) };
  const sigmaY = uniform(rng, b.sigma);
  const theta = uniform(rng, b.rotation);
  return { size, kernel: gaussianKernel({ size, sigmaX, sigmaY, theta }) };
}

// ---------------------------------------------------------------------------------------------
// The pipeline.

/** imresize options of a resize mode (see the header). */
export function resizeModeOptions(mode: ResizeMode, size: [number, number]): ImresizeOptions {
  if (mode === 'bicubic') return { size };
  if (mode === 'bilinear') return { size, kernel: 'linear', antialias: false };
  return { size, kernel: 'box', antialias: true };
}

function resizeTo(x: Tensor, size: [number, number], mode: ResizeMode): Tensor {
  if (x.shape[2] === size[0] && x.shape[3] === size[1]) return x;
  return imresize(x, resizeModeOptions(mode, size));
}

const toTensor = (p: PlanarImage) => tensor(p.data, [1, p.channels, p.height, p.width]);
const toPlanar = (t: Tensor): PlanarImage => ({ data: t.toFloat32Array(), channels: t.shape[1]!, height: t.shape[2]!, width: t.shape[3]! });

/** JPEG-compress a planar image in [0, 1] (clamped, rounded to 8 bits first) through sharp. */
export async function jpegRoundTrip(img: PlanarImage, quality: number): Promise<PlanarImage> {
  const { channels: c, height: h, width: w, data } = img;
  if (c !== 1 && c !== 3) throw new RangeError(`jpegRoundTrip: JPEG needs 1 or 3 channels, got ${c}`);
  const hw = h * w;
  const px = new Uint8Array(c * hw);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0, j = ch; i < hw; i++, j += c) {
      const v = data[ch * hw + i]! * 255;
      px[j] = v > 0 ? (v < 255 ? Math.round(v) : 255) : 0;
    }
  }
  const jpeg = await sharp(px, { raw: { width: w, height: h, channels: c } })
    .jpeg({ quality, chromaSubsampling: '4:2:0' })
    .toBuffer();
  const { data: raw, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  if (info.width !== w || info.height !== h || info.channels !== c) throw new Error(`jpegRoundTrip: decoded ${info.width}×${info.height}×${info.channels}, expected ${w}×${h}×${c}`);
  const out = new Float32Array(c * hw);
  for (let ch = 0; ch < c; ch++) for (let i = 0, j = ch; i < hw; i++, j += c) out[ch * hw + i] = raw[j]! / 255;
  return { data: out, channels: c, height: h, width: w };
}

/** One pass's blur, resize and noise (sync, native), returning the image before its JPEG step. */
function blurResizeNoise(img: PlanarImage, p: PassSpec, ref: [number, number], target: [number, number], rng: Generator): PlanarImage {
  return noGrad(() =>
    tidy(() => {
      let x = toTensor(img);
      if (p.blur && rng.next() < p.blur.prob) {
        const { size, kernel } = drawBlurKernel(p.blur, rng);
        x = filter2d(x, tensor(Float32Array.from(kernel), [1, size, size]));
      }
      const mode = pick(rng, p.resize.modes);
      let size = target;
      if (p.resize.scale) {
        const kind = weighted(rng, p.resize.updown);
        const f = kind === 0 ? uniform(rng, [1, p.resize.scale[1]]) : kind === 1 ? uniform(rng, [p.resize.scale[0], 1]) : 1;
        size = [Math.max(1, Math.round(ref[0] * f)), Math.max(1, Math.round(ref[1] * f))];
      }
      x = resizeTo(x, size, mode);
      if (p.noise && rng.next() < p.noise.prob) {
        const gaussian = rng.next() < p.noise.gaussian;
        const amount = gaussian ? uniform(rng, p.noise.sigma) / 255 : uniform(rng, p.noise.poisson);
        const grey = rng.next() < p.noise.grey;
        x = gaussian ? gaussianNoise(x, amount, { grey, generator: rng }) : poissonNoise(x, amount, { grey, generator: rng });
      }
      return toPlanar(x);
    }),
  );
}

function finalResize(img: PlanarImage, target: [number, number], modes: readonly ResizeMode[], rng: Generator): PlanarImage {
  const mode = pick(rng, modes);
  if (img.height === target[0] && img.width === target[1]) return img;
  return noGrad(() => tidy(() => toPlanar(resizeTo(toTensor(img), target, mode))));
}

async function maybeJpeg(img: PlanarImage, j: JpegSpec | null, rng: Generator): Promise<PlanarImage> {
  if (!j || !(rng.next() < j.prob)) return img;
  const q = j.quality[0] + rng.nextInt(j.quality[1] - j.quality[0] + 1);
  return jpegRoundTrip(img, q);
}

function roundTo8Bits(img: PlanarImage): PlanarImage {
  const d = img.data;
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = d[i]! * 255;
    out[i] = (v > 0 ? (v < 255 ? Math.round(v) : 255) : 0) / 255;
  }
  return { ...img, data: out };
}

/** MATLAB bicubic downscaling by the scale (the classic setting, `degradation` absent). */
export function bicubicDownscale(hr: PlanarImage, scale: number): PlanarImage {
  const target: [number, number] = [Math.floor(hr.height / scale), Math.floor(hr.width / scale)];
  return noGrad(() => tidy(() => toPlanar(imresize(toTensor(hr), { size: target }))));
}

/**
 * Degrade an HR image (planar, in [0, 1]) into its LR version of floor(H/scale) × floor(W/scale)
 * with the spec (null: MATLAB bicubic only). Draws everything from rng.
 */
export async function degrade(hr: PlanarImage, scale: number, spec: DegradationSpec | null, rng: Generator): Promise<PlanarImage> {
  if (!spec) return bicubicDownscale(hr, scale);
  const target: [number, number] = [Math.floor(hr.height / scale), Math.floor(hr.width / scale)];
  if (target[0] < 1 || target[1] < 1) throw new RangeError(`degrade: a ${hr.height}×${hr.width} image is smaller than the scale ${scale}`);
  const second = spec.second && rng.next() < spec.second.prob ? spec.second : null;
  let x = blurResizeNoise(hr, spec.first, [hr.height, hr.width], target, rng);
  if (!second) {
    // First-order model: [(x ⊛ k)↓ + n]_JPEG, then to the LR size if the resize was random.
    x = await maybeJpeg(x, spec.first.jpeg, rng);
    x = finalResize(x, target, spec.first.resize.modes, rng);
  } else {
    x = await maybeJpeg(x, spec.first.jpeg, rng);
    x = blurResizeNoise(x, second, target, target, rng);
    // Real-ESRGAN's last step: resize to the LR size and JPEG, in a random order.
    if (rng.next() < 0.5) {
      x = finalResize(x, target, second.resize.modes, rng);
      x = await maybeJpeg(x, second.jpeg, rng);
    } else {
      x = await maybeJpeg(x, second.jpeg, rng);
      x = finalResize(x, target, second.resize.modes, rng);
    }
  }
  return spec.round ? roundTo8Bits(x) : x;
}
