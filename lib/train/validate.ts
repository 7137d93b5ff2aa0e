// Validation: the model (or its EMA) on every validation pair, without gradients, measured by PSNR
// and SSIM with docs/model.md §4's conventions (lib/metrics: clamp, ×255, round to uint8; Y or RGB;
// crop_border). Optionally keeps centre crops of the first few LR / SR / HR images (TensorBoard).
import { noGrad, tidy } from '../autograd/scope.js';
import type { Dataset } from '../data/dataset.js';
import { collate } from '../data/dataset.js';
import type { MPFNet } from '../models/mpfnet/mpfnet.js';
import { rgbToY } from '../metrics/color.js';
import { cropBorder, toPlanes, type Planes } from '../metrics/planes.js';
import { psnrPlanes } from '../metrics/psnr.js';
import { ssimPlanes } from '../metrics/ssim.js';
import { Generator } from '../random.js';

/** Centre crops (uint8-valued planes) of one validation image: input, output and ground truth. */
export interface ValidationSample {
  name: string;
  lr: Planes;
  sr: Planes;
  hr: Planes;
}

/** What a validation measured. */
export interface ValidationResult {
  /** Mean PSNR over the images, dB. */
  psnr: number;
  /** Mean SSIM over the images that are at least 11×11 after cropping (NaN when none is). */
  ssim: number;
  images: { name: string; psnr: number; ssim: number }[];
  seconds: number;
  /** Crops of the first `samples.count` images, when asked for. */
  samples?: ValidationSample[];
}

/** How validate() measures (docs/model.md §4) and what it keeps. */
export interface ValidateOptions {
  /** Measure the Y channel instead of RGB. */
  yChannel: boolean;
  /** Pixels removed on every side before measuring. */
  cropBorder: number;
  /** Keep centre crops (at most `size`×`size` HR pixels) of the first `count` images. */
  samples?: { count: number; size: number };
}

/** Run `model` over every pair of `data` without gradients; PSNR and SSIM per image and their means. */
export function validate(model: MPFNet, data: Dataset, o: ValidateOptions): ValidationResult {
  const t0 = performance.now();
  const images: ValidationResult['images'] = [];
  const samples: ValidationSample[] = [];
  const wasTraining = model.training;
  model.eval();
  try {
    for (let i = 0; i < data.length; i++) {
      const sample = data.get(i, new Generator(0).fork(i));
      const name = sample.name ?? String(i);
      const keep = o.samples !== undefined && i < o.samples.count;
      const m = noGrad(() =>
        tidy(() => {
          const batch = collate([sample]);
          const sr = model.forward(batch.lr);
          if (sr.shape[2] !== sample.hr.height || sr.shape[3] !== sample.hr.width) {
            throw new RangeError(`validation: ${name}: the output is ${sr.shape[2]}×${sr.shape[3]} but the HR image ${sample.hr.height}×${sample.hr.width}`);
          }
          // toPlanes clamps, scales to 255 and rounds (docs/model.md §4); both metrics measure those planes.
          const srP = toPlanes(sr, 'validation');
          const hrP = toPlanes(batch.hr, 'validation');
          if (keep) samples.push(centreCrops(name, toPlanes(batch.lr, 'validation'), srP, hrP, o.samples!.size));
          let a = cropBorder(srP, o.cropBorder, 'validation');
          let b = cropBorder(hrP, o.cropBorder, 'validation');
          if (o.yChannel) {
            a = rgbToY(a);
            b = rgbToY(b);
          }
          return { psnr: psnrPlanes(a, b), ssim: a.height >= 11 && a.width >= 11 ? ssimPlanes(a, b) : NaN };
        }),
      );
      images.push({ name, ...m });
    }
  } finally {
    model.train(wasTraining);
  }
  const finite = images.filter((x) => Number.isFinite(x.psnr));
  const mean = finite.length ? finite.reduce((a, x) => a + x.psnr, 0) / finite.length : Infinity;
  const measured = images.filter((x) => !Number.isNaN(x.ssim));
  const ssim = measured.length ? measured.reduce((a, x) => a + x.ssim, 0) / measured.length : NaN;
  return { psnr: mean, ssim, images, seconds: (performance.now() - t0) / 1000, ...(o.samples ? { samples } : {}) };
}

/** The centre `size`×`size` of the HR / SR planes (a multiple of the scale) and the LR region under it. */
function centreCrops(name: string, lr: Planes, sr: Planes, hr: Planes, size: number): ValidationSample {
  const scale = hr.height / lr.height;
  const h = Math.min(lr.height, Math.max(1, Math.floor(size / scale)));
  const w = Math.min(lr.width, Math.max(1, Math.floor(size / scale)));
  const y = (lr.height - h) >> 1;
  const x = (lr.width - w) >> 1;
  return { name, lr: crop(lr, y, x, h, w), sr: crop(sr, y * scale, x * scale, h * scale, w * scale), hr: crop(hr, y * scale, x * scale, h * scale, w * scale) };
}

function crop(p: Planes, y0: number, x0: number, h: number, w: number): Planes {
  const out = new Float64Array(p.channels * h * w);
  for (let c = 0; c < p.channels; c++)
    for (let y = 0; y < h; y++) {
      const src = (c * p.height + y0 + y) * p.width + x0;
      out.set(p.data.subarray(src, src + w), (c * h + y) * w);
    }
  return { data: out, channels: p.channels, height: h, width: w };
}
