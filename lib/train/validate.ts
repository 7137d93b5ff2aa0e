// Validation: the model (or its EMA) on every validation pair, without gradients, measured by PSNR
// with docs/model.md §4's conventions (lib/metrics/psnr.ts: clamp, ×255, round to uint8; Y or RGB; crop_border).
import { noGrad, tidy } from '../autograd/scope.js';
import type { Dataset } from '../data/dataset.js';
import { collate } from '../data/dataset.js';
import type { MPFNet } from '../models/mpfnet/mpfnet.js';
import { psnr } from '../metrics/psnr.js';
import { Generator } from '../random.js';

/** The result of a validation: mean PSNR and which weights were measured. */
export interface ValidationResult {
  /** Mean PSNR over the images, dB. */
  psnr: number;
  images: { name: string; psnr: number }[];
  seconds: number;
}

export function validate(model: MPFNet, data: Dataset, o: { yChannel: boolean; cropBorder: number }): ValidationResult {
  const t0 = performance.now();
  const images: ValidationResult['images'] = [];
  const wasTraining = model.training;
  model.eval();
  try {
    for (let i = 0; i < data.length; i++) {
      const sample = data.get(i, new Generator(0).fork(i));
      const db = noGrad(() =>
        tidy(() => {
          const batch = collate([sample]);
          const sr = model.forward(batch.lr);
          if (sr.shape[2] !== sample.hr.height || sr.shape[3] !== sample.hr.width) {
            throw new RangeError(`validation: ${sample.name ?? i}: the output is ${sr.shape[2]}×${sr.shape[3]} but the HR image ${sample.hr.height}×${sample.hr.width}`);
          }
          // psnr clamps, scales to 255 and rounds both (docs/model.md §4).
          return psnr(sr, batch.hr, { crop: o.cropBorder, y: o.yChannel });
        }),
      );
      images.push({ name: sample.name ?? String(i), psnr: db });
    }
  } finally {
    model.train(wasTraining);
  }
  const finite = images.filter((x) => Number.isFinite(x.psnr));
  const mean = finite.length ? finite.reduce((a, x) => a + x.psnr, 0) / finite.length : Infinity;
  return { psnr: mean, images, seconds: (performance.now() - t0) / 1000 };
}
