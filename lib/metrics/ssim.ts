// SSIM as BasicSR and MATLAB's ssim_index compute it (docs/model.md §4): 11×11 Gaussian window (σ 1.5),
// C1 = (0.01·255)², C2 = (0.03·255)², statistics over the valid region only (no padding), the mean
// of the SSIM map, averaged over channels for RGB. Float64 throughout (native/cpu/ssim.cc: the
// separable window as two 11-tap passes, strips of rows in parallel).
import { native } from '../../bindings/index.js';
import { rgbToY } from './color.js';
import { checkSameSize, cropBorder, toPlanes, type MetricInput, type Planes } from './planes.js';
import type { PairMetricOptions } from './psnr.js';

/** Mean SSIM of each channel of planes already cropped / converted. */
export function ssimPerChannel(a: Planes, b: Planes): number[] {
  checkSameSize('ssim', a, b);
  if (a.height < 11 || a.width < 11) throw new RangeError(`ssim: images must be at least 11×11 after cropping, got ${a.width}×${a.height}`);
  const shape = [a.channels, a.height, a.width];
  const ha = native.create('cpu', 'float64', shape, a.data);
  const hb = native.create('cpu', 'float64', shape, b.data);
  try {
    const hm = native.ssimForward('cpu', ha, hb);
    try {
      return Array.from(native.read(hm));
    } finally {
      native.dispose(hm);
    }
  } finally {
    native.dispose(ha);
    native.dispose(hb);
  }
}

/** SSIM of planes already cropped / converted (the channel mean). */
export function ssimPlanes(a: Planes, b: Planes): number {
  const m = ssimPerChannel(a, b);
  return m.reduce((s, v) => s + v, 0) / m.length;
}

/** SSIM between a prediction and its ground truth (RGB mean over channels, or Y). */
export function ssim(pred: MetricInput, gt: MetricInput, opts: PairMetricOptions = {}): number {
  let a = cropBorder(toPlanes(pred, 'ssim'), opts.crop ?? 0, 'ssim');
  let b = cropBorder(toPlanes(gt, 'ssim'), opts.crop ?? 0, 'ssim');
  if (opts.y) {
    a = rgbToY(a);
    b = rgbToY(b);
  }
  return ssimPlanes(a, b);
}
