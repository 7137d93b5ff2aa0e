// What the trainer shows in TensorBoard (<out>/tb/): every loss term, the total, the lr and the
// speed at each log line; PSNR / SSIM and LR | SR | HR crops at each validation. The trainer
// calls it from two marked places; everything about tags and layout lives here.
import { basename, extname } from 'node:path';
import type { Image } from '../../io/image.js';
import type { Planes } from '../../metrics/planes.js';
import type { ValidationResult, ValidationSample } from '../validate.js';
import { SummaryWriter } from './board.js';

/** Gap between the LR, SR and HR panels of a validation image, pixels. */
const GAP = 4;

/** The trainer's TensorBoard log: fixed tags over a SummaryWriter (see docs/tensorboard.md). */
export class TrainingBoard {
  /** The underlying writer (its event file is `writer.path`). */
  readonly writer: SummaryWriter;

  /** Open a new event file in `dir`, marking a (re)start after `iteration` completed iterations. */
  constructor(dir: string, iteration: number) {
    this.writer = new SummaryWriter(dir);
    // Events an interrupted run wrote after this checkpoint (steps > iteration) are superseded.
    this.writer.sessionStart(iteration + 1);
  }

  /** A log line's numbers (means over the lines' window). */
  logIteration(iteration: number, e: { loss: number; losses: Record<string, number>; lr: number; itPerSec: number }): void {
    this.writer.addScalar('loss/total', e.loss, iteration);
    for (const [name, v] of Object.entries(e.losses)) this.writer.addScalar(`loss/${name}`, v, iteration);
    this.writer.addScalar('train/lr', e.lr, iteration);
    this.writer.addScalar('train/iterations_per_second', e.itPerSec, iteration);
  }

  /** A validation's metrics and sample images (one image per sample: LR (nearest-upscaled) | SR | HR). */
  logValidation(iteration: number, r: ValidationResult): void {
    this.writer.addScalar('val/psnr', r.psnr, iteration);
    if (!Number.isNaN(r.ssim)) this.writer.addScalar('val/ssim', r.ssim, iteration);
    const used = new Set<string>();
    for (const [i, s] of (r.samples ?? []).entries()) {
      // The file name without folder and extension; the index too when two files share it.
      let tag = `val/images/${basename(s.name, extname(s.name))}`;
      if (used.has(tag)) tag += `-${i}`;
      used.add(tag);
      // A failure is kept by the writer and thrown by the next write or flush.
      this.writer.addImage(tag, sideBySide(s), iteration).catch(() => {});
    }
  }

  /** Wait for images being encoded; make the file durable. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Wait for images being encoded; close the event file. */
  close(): Promise<void> {
    return this.writer.close();
  }
}

/** LR (scaled up by pixel repetition to the HR size) | SR | HR, on a white background. */
export function sideBySide(s: ValidationSample): Image {
  const { hr } = s;
  const c = hr.channels;
  const h = hr.height;
  const pw = hr.width;
  const width = 3 * pw + 2 * GAP;
  const data = new Uint8Array(width * h * c).fill(255);
  const panels: [Planes, number][] = [
    [s.lr, 0],
    [s.sr, pw + GAP],
    [hr, 2 * (pw + GAP)],
  ];
  for (const [p, x0] of panels) {
    // Source pixel of each output pixel: the identity for SR / HR, every scale-th for LR.
    const fy = p.height / h;
    const fx = p.width / pw;
    for (let y = 0; y < h; y++) {
      const sy = Math.min(p.height - 1, Math.floor(y * fy));
      for (let x = 0; x < pw; x++) {
        const sx = Math.min(p.width - 1, Math.floor(x * fx));
        const o = (y * width + x0 + x) * c;
        for (let k = 0; k < c; k++) data[o + k] = p.data[(k * p.height + sy) * p.width + sx]!;
      }
    }
  }
  return { data, width, height: h, channels: c as 1 | 3, bitDepth: 8, format: 'raw', hasAlpha: false };
}
