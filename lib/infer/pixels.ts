// What upscale() reads tiles from and writes rows into. A source is an image in its stored form
// (8- or 16-bit samples, interleaved) or planar floats (a tensor's values); a window of it comes
// out as planar RGB floats in [0, 1] for the model (grey replicated) plus the alpha plane. The
// sink turns blended rows back into the stored form: 8- or 16-bit interleaved samples, or floats.
import type { ChannelCount, Image } from '../io/image.js';
import type { RowSink } from './stream-resize.js';

export interface PixelSource {
  width: number;
  height: number;
  /** Grey (1 or 2 channels) in, grey out. */
  grey: boolean;
  hasAlpha: boolean;
  /** Planar RGB (3 × h × w) and alpha (h × w, or null) of the window at (y0, x0). */
  window(y0: number, x0: number, h: number, w: number): { rgb: Float32Array; alpha: Float32Array | null };
}

/** An 8- or 16-bit interleaved image (1 to 4 channels). */
export function imageSource(img: Image): PixelSource {
  const { width: W, height: H, channels: C, data } = img;
  const grey = C <= 2;
  const hasAlpha = C === 2 || C === 4;
  const k = 1 / (img.bitDepth === 16 ? 65535 : 255);
  return {
    width: W,
    height: H,
    grey,
    hasAlpha,
    window(y0, x0, h, w) {
      const hw = h * w;
      const rgb = new Float32Array(3 * hw);
      const alpha = hasAlpha ? new Float32Array(hw) : null;
      for (let y = 0; y < h; y++) {
        let p = ((y0 + y) * W + x0) * C;
        for (let x = 0, i = y * w; x < w; x++, i++, p += C) {
          if (grey) {
            const v = data[p]! * k;
            rgb[i] = v;
            rgb[hw + i] = v;
            rgb[2 * hw + i] = v;
          } else {
            rgb[i] = data[p]! * k;
            rgb[hw + i] = data[p + 1]! * k;
            rgb[2 * hw + i] = data[p + 2]! * k;
          }
          if (alpha) alpha[i] = data[p + C - 1]! * k;
        }
      }
      return { rgb, alpha };
    },
  };
}

/** Planar floats (C × H × W, C = 1..4, values in [0, 1]), e.g. a tensor's. */
export function planarSource(data: Float32Array, channels: number, height: number, width: number): PixelSource {
  const grey = channels <= 2;
  const hasAlpha = channels === 2 || channels === 4;
  const HW = height * width;
  return {
    width,
    height,
    grey,
    hasAlpha,
    window(y0, x0, h, w) {
      const hw = h * w;
      const rgb = new Float32Array(3 * hw);
      const alpha = hasAlpha ? new Float32Array(hw) : null;
      for (let c = 0; c < 3; c++) {
        const plane = grey ? 0 : c;
        for (let y = 0; y < h; y++) {
          const src = plane * HW + (y0 + y) * width + x0;
          rgb.set(data.subarray(src, src + w), c * hw + y * w);
        }
      }
      if (alpha) {
        for (let y = 0; y < h; y++) {
          const src = (channels - 1) * HW + (y0 + y) * width + x0;
          alpha.set(data.subarray(src, src + w), y * w);
        }
      }
      return { rgb, alpha };
    },
  };
}

/** Rows of planar floats (C × n × W) into 8- or 16-bit interleaved samples, rounded like im2uint8. */
export class ImageSink implements RowSink {
  readonly image: Image;
  #row = 0;

  constructor(width: number, height: number, channels: ChannelCount, bitDepth: 8 | 16) {
    const n = width * height * channels;
    const data = bitDepth === 16 ? new Uint16Array(n) : new Uint8Array(n);
    this.image = { data, width, height, channels, bitDepth, format: 'raw', hasAlpha: channels === 2 || channels === 4 };
  }

  write(rows: Float32Array, n: number): void {
    const { data, width: W, channels: C, bitDepth } = this.image;
    const max = bitDepth === 16 ? 65535 : 255;
    for (let c = 0; c < C; c++)
      for (let r = 0; r < n; r++) {
        const src = (c * n + r) * W;
        let dst = ((this.#row + r) * W) * C + c;
        for (let x = 0; x < W; x++, dst += C) {
          const v = rows[src + x]! * max;
          // NaN -> 0, like float32ToImage.
          data[dst] = v > 0 ? (v < max ? Math.floor(v + 0.5) : max) : 0;
        }
      }
    this.#row += n;
  }
}

/** Rows of planar floats into one planar float array (C × H × W), clamped to [0, 1]. */
export class FloatSink implements RowSink {
  readonly data: Float32Array;
  readonly #width: number;
  readonly #height: number;
  readonly #channels: number;
  #row = 0;

  constructor(width: number, height: number, channels: number) {
    this.data = new Float32Array(channels * width * height);
    this.#width = width;
    this.#height = height;
    this.#channels = channels;
  }

  write(rows: Float32Array, n: number): void {
    const W = this.#width;
    for (let c = 0; c < this.#channels; c++)
      for (let r = 0; r < n; r++) {
        const src = (c * n + r) * W;
        const dst = (c * this.#height + this.#row + r) * W;
        for (let x = 0; x < W; x++) {
          const v = rows[src + x]!;
          this.data[dst + x] = v > 0 ? (v < 1 ? v : 1) : 0;
        }
      }
    this.#row += n;
  }
}
