// The Y channel of BT.601 "studio swing" YCbCr, as MATLAB's rgb2ycbcr and BasicSR compute it:
// Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 for R, G, B in [0, 255] (Y in [16, 235]).
// PSNR/SSIM use it unrounded; NIQE rounds it (MATLAB converts uint8 images to uint8 Y).
import type { Planes } from './planes.js';

/** Y of RGB planes (grey planes pass through unchanged, as BasicSR's to_y_channel does). */
export function rgbToY(p: Planes, opts: { round?: boolean } = {}): Planes {
  if (p.channels === 1) return p;
  if (p.channels !== 3) throw new RangeError(`rgbToY: expected 1 or 3 channels, got ${p.channels}`);
  const hw = p.height * p.width;
  const out = new Float64Array(hw);
  const d = p.data;
  for (let i = 0; i < hw; i++) {
    const y = 16 + (65.481 * d[i]! + 128.553 * d[hw + i]! + 24.966 * d[2 * hw + i]!) / 255;
    out[i] = opts.round ? Math.floor(y + 0.5) : y;
  }
  return { data: out, channels: 1, height: p.height, width: p.width };
}
