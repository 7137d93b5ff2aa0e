// What every metric measures: planar float64 samples on the uint8 scale. Tensors in [0, 1] are
// clamped, ×255 and rounded (half away from zero, as MATLAB's im2uint8), as docs/model.md §4 and BasicSR
// measure them; 8-bit images are taken as stored; 16-bit ones are brought to 8 bits (v / 257,
// rounded). Alpha is not measured.
import type { Image } from '../io/image.js';
import type { Tensor } from '../tensor.js';

/** Planar (C, H, W) float64 samples in [0, 255]. */
export interface Planes {
  data: Float64Array;
  channels: number;
  height: number;
  width: number;
}

/** What a metric measures: an image, a tensor in [0, 1], or planar data. */
export type MetricInput = Image | Tensor | Planes;

function isTensor(x: MetricInput): x is Tensor {
  return typeof (x as Tensor).handle === 'number' && Array.isArray((x as Tensor).shape);
}
function isImage(x: MetricInput): x is Image {
  return (x as Image).bitDepth !== undefined && ((x as Image).data instanceof Uint8Array || (x as Image).data instanceof Uint16Array);
}

/** The colour channels (alpha dropped) of an image or tensor as uint8-valued planes. */
export function toPlanes(x: MetricInput, fn = 'metric'): Planes {
  if (isTensor(x)) {
    const s = x.shape;
    if (!(s.length === 3 || (s.length === 4 && s[0] === 1))) throw new RangeError(`${fn}: expected an image tensor [1, C, H, W] or [C, H, W], got [${s.join(', ')}]`);
    const [c, h, w] = s.slice(-3) as [number, number, number];
    if (c < 1 || c > 4) throw new RangeError(`${fn}: expected 1 to 4 channels, got ${c}`);
    const keep = c === 2 ? 1 : c === 4 ? 3 : c;
    const cpu = x.to('cpu');
    const v = cpu.dtype === 'float64' ? cpu.toFloat64Array() : cpu.toFloat32Array();
    if (cpu !== x) cpu.dispose();
    const n = keep * h * w;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = v[i]! * 255;
      out[i] = t > 0 ? (t < 255 ? Math.floor(t + 0.5) : 255) : 0;
    }
    return { data: out, channels: keep, height: h, width: w };
  }
  if (isImage(x)) {
    const { width: w, height: h, channels: c, data } = x;
    const keep = c === 2 ? 1 : c === 4 ? 3 : c;
    const hw = w * h;
    const out = new Float64Array(keep * hw);
    const sixteen = x.bitDepth === 16;
    for (let k = 0; k < keep; k++)
      for (let i = 0, j = k; i < hw; i++, j += c) out[k * hw + i] = sixteen ? Math.floor(data[j]! / 257 + 0.5) : data[j]!;
    return { data: out, channels: keep, height: h, width: w };
  }
  if (x && x.data instanceof Float64Array) return x;
  throw new TypeError(`${fn}: expected an Image, a Tensor or Planes`);
}

/** Remove `c` pixels from every side. */
export function cropBorder(p: Planes, c: number, fn = 'metric'): Planes {
  if (!Number.isInteger(c) || c < 0) throw new RangeError(`${fn}: crop must be a non-negative integer, got ${c}`);
  if (c === 0) return p;
  const h = p.height - 2 * c;
  const w = p.width - 2 * c;
  if (h < 1 || w < 1) throw new RangeError(`${fn}: crop ${c} leaves nothing of a ${p.width}×${p.height} image`);
  const out = new Float64Array(p.channels * h * w);
  for (let k = 0; k < p.channels; k++)
    for (let y = 0; y < h; y++) {
      const src = (k * p.height + y + c) * p.width + c;
      out.set(p.data.subarray(src, src + w), (k * h + y) * w);
    }
  return { data: out, channels: p.channels, height: h, width: w };
}

export function checkSameSize(fn: string, a: Planes, b: Planes): void {
  if (a.channels !== b.channels || a.height !== b.height || a.width !== b.width)
    throw new RangeError(`${fn}: the images differ in size: ${a.width}×${a.height}×${a.channels} vs ${b.width}×${b.height}×${b.channels}`);
}
