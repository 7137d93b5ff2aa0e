// PSNR in float64 on the uint8 scale: 10·log10(255² / MSE) over all channels (docs/model.md §4).
import { rgbToY } from './color.js';
import { checkSameSize, cropBorder, toPlanes, type MetricInput, type Planes } from './planes.js';

/** Options of {@link psnr} and {@link ssim}: border crop and Y channel. */
export interface PairMetricOptions {
  /** Pixels removed from every side first (BasicSR's crop_border; usually the scale). */
  crop?: number;
  /** Measure the Y channel instead of RGB. */
  y?: boolean;
}

/** PSNR of planes already cropped / converted (Infinity when identical). */
export function psnrPlanes(a: Planes, b: Planes): number {
  checkSameSize('psnr', a, b);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i]! - b.data[i]!;
    sum += d * d;
  }
  const mse = sum / a.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** PSNR in dB between a prediction and its ground truth (Infinity when identical). */
export function psnr(pred: MetricInput, gt: MetricInput, opts: PairMetricOptions = {}): number {
  let a = cropBorder(toPlanes(pred, 'psnr'), opts.crop ?? 0, 'psnr');
  let b = cropBorder(toPlanes(gt, 'psnr'), opts.crop ?? 0, 'psnr');
  if (opts.y) {
    a = rgbToY(a);
    b = rgbToY(b);
  }
  return psnrPlanes(a, b);
}
