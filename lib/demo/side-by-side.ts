// The demo's comparison picture: equally sized RGB panels left to right with a white gap. The LR
// panel is enlarged by pixel replication, so every panel shows the same region at the same size.
import type { Image } from '../io/image.js';

/** Nearest-neighbour enlargement by an integer factor (8-bit RGB or grey). */
export function enlargeNearest(img: Image, factor: number): Image {
  const { width: w, height: h, channels: c } = img;
  const W = w * factor;
  const H = h * factor;
  const out = new Uint8Array(W * H * c);
  for (let y = 0; y < H; y++) {
    const sy = Math.floor(y / factor);
    for (let x = 0; x < W; x++) {
      const s = (sy * w + Math.floor(x / factor)) * c;
      const d = (y * W + x) * c;
      for (let k = 0; k < c; k++) out[d + k] = img.data[s + k]!;
    }
  }
  return { data: out, width: W, height: H, channels: c, bitDepth: 8, format: 'raw', hasAlpha: false };
}

/** Panels (8-bit, 3 channels, the same height) side by side with `gap` white pixels between. */
export function sideBySide(panels: Image[], gap = 8): Image {
  if (!panels.length) throw new RangeError('sideBySide: no panels');
  const H = panels[0]!.height;
  for (const p of panels) {
    if (p.height !== H || p.channels !== 3 || p.bitDepth !== 8) throw new RangeError(`sideBySide: panels must be 8-bit RGB of height ${H}, got ${p.width}×${p.height}×${p.channels} (${p.bitDepth}-bit)`);
  }
  const W = panels.reduce((a, p) => a + p.width, 0) + gap * (panels.length - 1);
  const out = new Uint8Array(W * H * 3).fill(255);
  let x0 = 0;
  for (const p of panels) {
    for (let y = 0; y < H; y++) out.set(p.data.subarray(y * p.width * 3, (y + 1) * p.width * 3), (y * W + x0) * 3);
    x0 += p.width + gap;
  }
  return { data: out, width: W, height: H, channels: 3, bitDepth: 8, format: 'raw', hasAlpha: false };
}
