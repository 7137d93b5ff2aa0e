// NIQE (Mittal, Soundararajan & Bovik 2013), reproducing the MATLAB release as BasicSR does
// (docs/model.md §4): the Y channel rounded to integers, cut to whole 96×96 blocks; at two scales (the second
// a MATLAB bicubic ×0.5 with antialiasing) the image is normalised locally (7×7 Gaussian, σ 7/6,
// replicate borders) and each block gives 18 features from asymmetric generalised Gaussian (AGGD)
// fits of the normalised values and of their products with 4 neighbours. The score is the
// Mahalanobis-like distance between the blocks' Gaussian and the pristine model shipped in
// data/niqe_pris_params.json (converted from BasicSR's .npz by test/fixtures/gen_niqe_params.py).
//
// Agreement: BasicSR's float32 steps (Y channel, local normalisation) are reproduced exactly; the
// half-scale resize runs in float64. Baboon gives 5.7295757 (MATLAB 5.72957, BasicSR 5.72958). A
// float32 resize, as BasicSR's (torch), differs only in rounding and summation order, yet that moves
// NIQE by up to 2.0e-3 on the test photos (brick; 3.4e-4 on astronaut, 6e-5 on baboon), because
// the AGGD shape fit picks from a grid: expect agreement with BasicSR to about 2e-3, not better.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../bindings/index.js';
import { noGrad } from '../autograd/scope.js';
import { tensor } from '../ops/creation.js';
import { imresize } from '../ops/resize.js';
import { cropBorder, toPlanes, type MetricInput, type Planes } from './planes.js';
import { gamma, pinvSymmetric } from './special.js';

const BLOCK = 96;
const FEATURES = 36;

interface PristineModel {
  mu: Float64Array;
  cov: Float64Array;
  window: Float64Array; // 7×7, row-major
}

let pristine: PristineModel | null = null;

function pristineModel(): PristineModel {
  if (pristine) return pristine;
  const path = join(packageRoot(), 'data', 'niqe_pris_params.json');
  const j = JSON.parse(readFileSync(path, 'utf8')) as { mu_pris_param: number[]; cov_pris_param: number[][]; gaussian_window: number[][] };
  if (j.mu_pris_param.length !== FEATURES || j.cov_pris_param.length !== FEATURES || j.gaussian_window.length !== 7)
    throw new Error(`niqe: ${path} does not hold a 36-feature pristine model with a 7×7 window`);
  pristine = { mu: Float64Array.from(j.mu_pris_param), cov: Float64Array.from(j.cov_pris_param.flat()), window: Float64Array.from(j.gaussian_window.flat()) };
  return pristine;
}

// The AGGD shape search grid, α = 0.2:0.001:10, and ρ(α) = Γ(2/α)² / (Γ(1/α) Γ(3/α)).
let grid: { alpha: Float64Array; rho: Float64Array } | null = null;
function aggdGrid(): { alpha: Float64Array; rho: Float64Array } {
  if (grid) return grid;
  const n = 9801;
  const alpha = new Float64Array(n);
  const rho = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = 0.2 + i * 0.001;
    alpha[i] = a;
    rho[i] = gamma(2 / a) ** 2 / (gamma(1 / a) * gamma(3 / a));
  }
  grid = { alpha, rho };
  return grid;
}

/** AGGD fit by moment matching over the α grid: [α, β_left, β_right]. */
export function estimateAggd(v: ArrayLike<number>): [number, number, number] {
  let sumL = 0, nL = 0, sumR = 0, nR = 0, sumAbs = 0, sumSq = 0;
  const n = v.length;
  for (let i = 0; i < n; i++) {
    const x = v[i]!;
    const x2 = x * x;
    if (x < 0) {
      sumL += x2;
      nL++;
    } else if (x > 0) {
      sumR += x2;
      nR++;
    }
    sumAbs += Math.abs(x);
    sumSq += x2;
  }
  // Empty sides give NaN, as MATLAB's mean([]) does; those blocks drop out of the covariance.
  const leftStd = Math.sqrt(sumL / nL);
  const rightStd = Math.sqrt(sumR / nR);
  const gammaHat = leftStd / rightStd;
  const rHat = (sumAbs / n) ** 2 / (sumSq / n);
  const rHatNorm = (rHat * (gammaHat ** 3 + 1) * (gammaHat + 1)) / (gammaHat ** 2 + 1) ** 2;
  const { alpha, rho } = aggdGrid();
  let best = 0;
  let bestErr = Infinity;
  for (let i = 0; i < rho.length; i++) {
    const d = rho[i]! - rHatNorm;
    const e = d * d;
    if (e < bestErr) {
      bestErr = e;
      best = i;
    }
  }
  const a = alpha[best]!;
  const k = Math.sqrt(gamma(1 / a) / gamma(3 / a));
  return [a, leftStd * k, rightStd * k];
}

/** Correlate with the 7×7 window, replicating the border (MATLAB imfilter 'replicate'). */
function filter7(img: Float64Array, h: number, w: number, win: Float64Array): Float64Array {
  const out = new Float64Array(h * w);
  // Interior pixels read straight from the image; only the 3-pixel frame clamps coordinates.
  // Both sum in the same order (row by row, left to right), so the frame matches the interior.
  const clamped = (y: number, x: number): number => {
    let s = 0;
    for (let i = 0; i < 7; i++) {
      const yy = Math.min(h - 1, Math.max(0, y + i - 3)) * w;
      for (let j = 0; j < 7; j++) s += win[i * 7 + j]! * img[yy + Math.min(w - 1, Math.max(0, x + j - 3))]!;
    }
    return s;
  };
  for (let y = 0; y < h; y++) {
    const inner = y >= 3 && y < h - 3;
    for (let x = 0; x < w; x++) {
      if (!inner || x < 3 || x >= w - 3) {
        out[y * w + x] = clamped(y, x);
        continue;
      }
      let s = 0;
      let k = 0;
      for (let i = 0; i < 7; i++) {
        const row = (y + i - 3) * w + x - 3;
        s += win[k]! * img[row]!;
        s += win[k + 1]! * img[row + 1]!;
        s += win[k + 2]! * img[row + 2]!;
        s += win[k + 3]! * img[row + 3]!;
        s += win[k + 4]! * img[row + 4]!;
        s += win[k + 5]! * img[row + 5]!;
        s += win[k + 6]! * img[row + 6]!;
        k += 7;
      }
      out[y * w + x] = s;
    }
  }
  return out;
}

/** The 18 features of one block (bh × bw at (top, left) of the normalised image). */
function blockFeatures(img: Float64Array, w: number, top: number, left: number, bh: number, bw: number, out: number[]): void {
  const block = new Float64Array(bh * bw);
  for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) block[y * bw + x] = img[(top + y) * w + left + x]!;
  const [a, bl, br] = estimateAggd(block);
  out.push(a, (bl + br) / 2);
  // Products with the neighbour at (dy, dx), wrapping inside the block (MATLAB circshift).
  const prod = new Float64Array(bh * bw);
  for (const [dy, dx] of [[0, 1], [1, 0], [1, 1], [1, -1]] as const) {
    for (let y = 0; y < bh; y++) {
      const sy = (y - dy + bh) % bh;
      for (let x = 0; x < bw; x++) prod[y * bw + x] = block[y * bw + x]! * block[sy * bw + ((x - dx + bw) % bw)]!;
    }
    const [pa, pl, pr] = estimateAggd(prod);
    const mean = (pr - pl) * (gamma(2 / pa) / gamma(1 / pa));
    out.push(pa, mean, pl, pr);
  }
}

const f32 = Math.fround;

/**
 * The local normalisation (x − μ) / (σ + 1) as BasicSR computes it: the image is float32, the 7×7
 * filter (scipy.ndimage.convolve) sums in float64 and stores float32, and every elementwise step
 * rounds to float32. Emulating those roundings (and BasicSR's float32 Y channel) moves the baboon's
 * NIQE from 5.72996 to 5.7295757 (BasicSR 5.7295763, MATLAB 5.72957).
 */
function normalise(img: Float64Array, h: number, w: number, win: Float64Array): Float64Array {
  const mu = filter7(img, h, w, win).map(f32);
  const mu2 = filter7(img.map((v) => f32(v * v)), h, w, win).map(f32);
  const norm = new Float64Array(h * w);
  for (let i = 0; i < norm.length; i++) {
    const sigma = f32(Math.sqrt(Math.abs(f32(mu2[i]! - f32(mu[i]! * mu[i]!)))));
    norm[i] = f32(f32(img[i]! - mu[i]!) / f32(sigma + 1));
  }
  return norm;
}

/**
 * The half scale: MATLAB's imresize(img, 0.5) with antialiasing, in float64. BasicSR runs it in
 * torch float32; a float32 resize that sums in another order (ours) lands further from BasicSR
 * (baboon 5.72963) than float64 does (5.7295757 vs BasicSR's 5.7295763).
 */
function halve(img: Float64Array, h: number, w: number): Float64Array {
  return noGrad(() => {
    const t = tensor(img, [1, 1, h, w], { dtype: 'float64' });
    const r = imresize(t, { scale: 0.5 });
    const v = r.toFloat64Array();
    t.dispose();
    r.dispose();
    return v;
  });
}

/** NIQE of a single-channel image with values on the 0..255 scale (already rounded). */
export function niqeOfGrey(data: Float64Array, height: number, width: number): number {
  const model = pristineModel();
  const nh = Math.floor(height / BLOCK);
  const nw = Math.floor(width / BLOCK);
  if (nh * nw < 2) throw new RangeError(`niqe: needs at least two ${BLOCK}×${BLOCK} blocks, the image is ${width}×${height}`);
  let h = nh * BLOCK;
  let w = nw * BLOCK;
  let img: Float64Array = new Float64Array(h * w);
  for (let y = 0; y < h; y++) img.set(data.subarray(y * width, y * width + w), y * w);
  img = img.map(f32);
  const feats: number[][] = Array.from({ length: nh * nw }, () => []);
  for (const scale of [1, 2]) {
    const norm = normalise(img, h, w, model.window);
    const bh = BLOCK / scale;
    const bw = BLOCK / scale;
    for (let by = 0; by < nh; by++) for (let bx = 0; bx < nw; bx++) blockFeatures(norm, w, by * bh, bx * bw, bh, bw, feats[by * nw + bx]!);
    if (scale === 1) {
      img = halve(img, h, w);
      h /= 2;
      w /= 2;
    }
  }
  return niqeDistance(feats, model);
}

function niqeDistance(feats: number[][], model: PristineModel): number {
  const n = FEATURES;
  // Mean over all blocks ignoring NaNs (nanmean); covariance over complete blocks only (nancov).
  const mu = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let s = 0, c = 0;
    for (const f of feats) if (!Number.isNaN(f[k]!)) {
      s += f[k]!;
      c++;
    }
    mu[k] = s / c;
  }
  const full = feats.filter((f) => f.every((v) => !Number.isNaN(v)));
  if (full.length < 2) throw new RangeError(`niqe: fewer than two blocks have finite features (flat image?)`);
  const m = new Float64Array(n);
  for (const f of full) for (let k = 0; k < n; k++) m[k]! += f[k]!;
  for (let k = 0; k < n; k++) m[k]! /= full.length;
  const cov = new Float64Array(n * n);
  for (const f of full)
    for (let i = 0; i < n; i++) {
      const di = f[i]! - m[i]!;
      for (let j = 0; j < n; j++) cov[i * n + j]! += di * (f[j]! - m[j]!);
    }
  const avg = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) avg[i] = (model.cov[i]! + cov[i]! / (full.length - 1)) / 2;
  const inv = pinvSymmetric(avg, n);
  let q = 0;
  for (let i = 0; i < n; i++) {
    const di = model.mu[i]! - mu[i]!;
    for (let j = 0; j < n; j++) q += di * inv[i * n + j]! * (model.mu[j]! - mu[j]!);
  }
  return Math.sqrt(q);
}

/** Options of {@link niqe}. */
export interface NiqeOptions {
  /** Pixels removed from every side first (default 0). */
  crop?: number;
}

/** Round half to even, as numpy's round() (BasicSR rounds the Y channel with it). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * BasicSR's Y channel for NIQE (to_y_channel then round): RGB as float32 / 255, the BT.601 dot
 * product in float64 (blue, green, red: it reads BGR), stored as float32, times 255 in float32,
 * rounded half to even.
 */
function lumaForNiqe(p: Planes): Planes {
  if (p.channels === 1) return { ...p, data: p.data.map((v) => roundHalfEven(f32(v))) };
  if (p.channels !== 3) throw new RangeError(`niqe: expected 1 or 3 channels, got ${p.channels}`);
  const hw = p.height * p.width;
  const d = p.data;
  const out = new Float64Array(hw);
  for (let i = 0; i < hw; i++) {
    const r = f32(d[i]! / 255);
    const g = f32(d[hw + i]! / 255);
    const b = f32(d[2 * hw + i]! / 255);
    const y = f32((b * 24.966 + g * 128.553 + r * 65.481 + 16) / 255);
    out[i] = roundHalfEven(f32(y * 255));
  }
  return { data: out, channels: 1, height: p.height, width: p.width };
}

/** NIQE of an image (lower is better): Y channel, rounded, as MATLAB and BasicSR compute it. */
export function niqe(img: MetricInput, opts: NiqeOptions = {}): number {
  const p = cropBorder(lumaForNiqe(toPlanes(img, 'niqe')), opts.crop ?? 0, 'niqe');
  return niqeOfGrey(p.data, p.height, p.width);
}
