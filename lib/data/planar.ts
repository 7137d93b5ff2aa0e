// Planar (CHW) float32 images in plain JS memory: the unit datasets hand to the batcher. Crops,
// flips and 90° rotations are index shuffles, cheap enough per sample to stay out of the addon.

/** An image as planar float32 data (C × H × W). */
export interface PlanarImage {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** Wraps planar data of the given size, checking that its length matches. */
export function planar(data: Float32Array, channels: number, height: number, width: number): PlanarImage {
  if (data.length !== channels * height * width) throw new RangeError(`planar: ${data.length} values do not make ${channels}×${height}×${width}`);
  return { data, channels, height, width };
}

/** The h×w window at (top, left). */
export function crop(img: PlanarImage, top: number, left: number, h: number, w: number): PlanarImage {
  if (top < 0 || left < 0 || top + h > img.height || left + w > img.width || h < 1 || w < 1) {
    throw new RangeError(`crop: window ${h}×${w} at (${top}, ${left}) does not fit a ${img.height}×${img.width} image`);
  }
  const out = new Float32Array(img.channels * h * w);
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < h; y++) {
      const src = (c * img.height + top + y) * img.width + left;
      out.set(img.data.subarray(src, src + w), (c * h + y) * w);
    }
  }
  return { data: out, channels: img.channels, height: h, width: w };
}

/** Flip left-right (h), top-bottom (v) and/or transpose (t: with h, a 90° rotation). */
export function orient(img: PlanarImage, o: { h?: boolean; v?: boolean; t?: boolean }): PlanarImage {
  if (!o.h && !o.v && !o.t) return img;
  const { channels: C, height: H, width: W } = img;
  const oh = o.t ? W : H;
  const ow = o.t ? H : W;
  const out = new Float32Array(img.data.length);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        // Output (y, x) reads the source after undoing transpose, then the flips.
        let sy = o.t ? x : y;
        let sx = o.t ? y : x;
        if (o.v) sy = H - 1 - sy;
        if (o.h) sx = W - 1 - sx;
        out[(c * oh + y) * ow + x] = img.data[(c * H + sy) * W + sx]!;
      }
    }
  }
  return { data: out, channels: C, height: oh, width: ow };
}

/**
 * Average-pool by an integer factor: a simple, exact degradation used when no resize op is
 * given (the bicubic MATLAB imresize is lib/ops/resize.ts).
 */
export function boxDownsample(img: PlanarImage, factor: number): PlanarImage {
  const h = Math.floor(img.height / factor);
  const w = Math.floor(img.width / factor);
  if (h < 1 || w < 1) throw new RangeError(`boxDownsample: a ${img.height}×${img.width} image is smaller than the factor ${factor}`);
  const out = new Float32Array(img.channels * h * w);
  const inv = 1 / (factor * factor);
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let dy = 0; dy < factor; dy++) {
          const row = (c * img.height + y * factor + dy) * img.width + x * factor;
          for (let dx = 0; dx < factor; dx++) s += img.data[row + dx]!;
        }
        out[(c * h + y) * w + x] = s * inv;
      }
    }
  }
  return { data: out, channels: img.channels, height: h, width: w };
}
