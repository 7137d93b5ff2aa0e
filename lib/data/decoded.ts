// Decoded images as datasets hold them: the file's own 8/16-bit samples (4× smaller than float32,
// so a cache holds more), turned into planar RGB float32 only for the window a sample needs.
// A cache of them, bounded in bytes, least recently used out first.
import type { Image } from '../io/image.js';
import type { PlanarImage } from './planar.js';

/** A decoded file (integer samples, HWC) or an image computed at load (planar float32). */
export type Decoded = { kind: 'image'; image: Image } | { kind: 'planar'; planar: PlanarImage };

export function decodedSize(d: Decoded): { height: number; width: number } {
  return d.kind === 'image' ? { height: d.image.height, width: d.image.width } : { height: d.planar.height, width: d.planar.width };
}

export function decodedBytes(d: Decoded): number {
  return d.kind === 'image' ? d.image.data.byteLength : d.planar.data.byteLength;
}

/**
 * The h×w window at (top, left) as planar RGB float32 in [0, 1]: grey is replicated, alpha dropped
 * (as the 'images' loader and OpenCV's IMREAD_COLOR do).
 */
export function cropRgb(d: Decoded, top: number, left: number, h: number, w: number): PlanarImage {
  const { height: H, width: W } = decodedSize(d);
  if (top < 0 || left < 0 || h < 1 || w < 1 || top + h > H || left + w > W) {
    throw new RangeError(`crop: window ${h}×${w} at (${top}, ${left}) does not fit a ${H}×${W} image`);
  }
  const out = new Float32Array(3 * h * w);
  const plane = h * w;
  if (d.kind === 'planar') {
    const p = d.planar;
    for (let c = 0; c < 3; c++) {
      const src = p.channels >= 3 ? c : 0;
      for (let y = 0; y < h; y++) {
        const from = (src * H + top + y) * W + left;
        out.set(p.data.subarray(from, from + w), c * plane + y * w);
      }
    }
    return { data: out, channels: 3, height: h, width: w };
  }
  const img = d.image;
  const cin = img.channels;
  const scale = 1 / (img.bitDepth === 16 ? 65535 : 255);
  const srcOf = cin <= 2 ? [0, 0, 0] : [0, 1, 2];
  const data = img.data;
  for (let y = 0; y < h; y++) {
    const row = ((top + y) * W + left) * cin;
    for (let c = 0; c < 3; c++) {
      const o = c * plane + y * w;
      for (let x = 0, j = row + srcOf[c]!; x < w; x++, j += cin) out[o + x] = data[j]! * scale;
    }
  }
  return { data: out, channels: 3, height: h, width: w };
}

/** Decoded images by key, at most `maxBytes` in all (Infinity: unbounded; 0: nothing kept). */
export class DecodedCache {
  readonly maxBytes: number;
  #bytes = 0;
  readonly #map = new Map<string, Decoded>();

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string): Decoded | undefined {
    const d = this.#map.get(key);
    if (d) {
      // Map order is insertion order: re-inserting marks it most recently used.
      this.#map.delete(key);
      this.#map.set(key, d);
    }
    return d;
  }

  set(key: string, d: Decoded): void {
    const n = decodedBytes(d);
    if (n > this.maxBytes) return;
    const old = this.#map.get(key);
    if (old) {
      this.#bytes -= decodedBytes(old);
      this.#map.delete(key);
    }
    this.#map.set(key, d);
    this.#bytes += n;
    for (const [k, v] of this.#map) {
      if (this.#bytes <= this.maxBytes) break;
      this.#map.delete(k);
      this.#bytes -= decodedBytes(v);
    }
  }
}
