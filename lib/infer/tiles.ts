// Where the tiles go and how they blend. Every tile the model sees (a "window": the tile plus its
// padding) has the same size, so edge tiles are shifted inward rather than cut short; the windows
// are as few as the tile size allows and as small as their number allows, spread evenly along
// each axis, so neighbouring windows overlap by about the same amount (at least 2·pad). In an
// overlap the two outputs are cross-faded with complementary cosine ramps (sin² + cos² = 1), so
// there is no step anywhere; the first `margin` output pixels at a window's inner edge, where the
// convolutions saw zero padding instead of the image, get no weight at all. Weights are separable
// (w(x, y) = wx(x)·wy(y)), so blending needs only 1-D sums.

/** The windows along one axis of the input (low-resolution) image. */
export interface AxisPlan {
  /** Input length. */
  length: number;
  /** Window length (the same for every window). */
  window: number;
  /** Window starts, increasing; the first is 0 and the last ends at `length`. */
  starts: number[];
}

/**
 * As few windows as cover the axis with windows of at most `tile + 2·pad` pixels and a stride of at
 * most `tile` (the whole axis when it is that short, or when tile is 0), each as small as that
 * number allows while neighbours still overlap by at least 2·pad, spread evenly.
 */
export function planAxis(length: number, tile: number, pad: number): AxisPlan {
  if (!Number.isSafeInteger(length) || length < 1) throw new RangeError(`planAxis: length must be a positive integer, got ${length}`);
  if (!Number.isSafeInteger(tile) || tile < 0) throw new RangeError(`tile must be a non-negative integer (0: no tiling), got ${tile}`);
  if (!Number.isSafeInteger(pad) || pad < 0) throw new RangeError(`tilePad must be a non-negative integer, got ${pad}`);
  const largest = tile === 0 ? length : Math.min(length, tile + 2 * pad);
  if (largest === length) return { length, window: largest, starts: [0] };
  const n = Math.ceil((length - largest) / tile) + 1;
  // Shrink the windows to the fewest pixels that n of them need: n windows of `largest` pixels
  // overlap by far more than 2·pad wherever length is not just past a multiple of the stride (a
  // 2048-pixel side at tile 192: 11 windows of 224 overlap by 41-42 pixels, of 216 by 32-33), and
  // every pixel of overlap is computed twice. n·window >= length + 2·pad·(n - 1) makes the integer
  // window - 2·pad at least the mean stride (length - window) / (n - 1), so at least its ceiling,
  // the largest stride the rounded starts can have: every overlap is >= 2·pad. The largest window
  // meets the same bound, so this one is never larger.
  const window = Math.ceil((length + 2 * pad * (n - 1)) / n);
  const starts = Array.from({ length: n }, (_, i) => Math.round((i * (length - window)) / (n - 1)));
  return { length, window, starts };
}

/** Tiles of a whole image, in raster order (a row of tiles at a time). */
export interface TilePlan {
  rows: AxisPlan;
  cols: AxisPlan;
  count: number;
}

/**
 * Cut an image of `height` × `width` into equal windows of `tile` pixels with `pad` pixels of context (see
 * docs/upscaling.md).
 */
export function planTiles(height: number, width: number, tile: number, pad: number): TilePlan {
  const rows = planAxis(height, tile, pad);
  const cols = planAxis(width, tile, pad);
  return { rows, cols, count: rows.starts.length * cols.starts.length };
}

/** Per-window blending weights along one axis of the output (scale × the input). */
export interface AxisWeights {
  /** weights[i][k]: weight of window i's output pixel k (length scale·window). */
  weights: Float32Array[];
  /** 1 / (sum of the weights of every window covering output pixel X), length scale·length. */
  inverseSum: Float32Array;
}

/** How many output pixels at a window's inner edge get no weight (default: ~half the pad). */
export function defaultMargin(pad: number, scale: number): number {
  return Math.floor(pad / 2) * scale;
}

export function axisWeights(plan: AxisPlan, scale: number, margin: number): AxisWeights {
  const n = plan.starts.length;
  const wl = plan.window * scale;
  const sum = new Float64Array(plan.length * scale);
  const weights: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const w = new Float32Array(wl).fill(1);
    const start = plan.starts[i]! * scale;
    // Ramps only at inner edges: the image border has nothing to blend with.
    if (i > 0) ramp(w, (plan.starts[i - 1]! + plan.window - plan.starts[i]!) * scale, margin, false);
    if (i < n - 1) ramp(w, (plan.starts[i]! + plan.window - plan.starts[i + 1]!) * scale, margin, true);
    for (let k = 0; k < wl; k++) sum[start + k]! += w[k]!;
    weights.push(w);
  }
  const inverseSum = new Float32Array(sum.length);
  for (let x = 0; x < sum.length; x++) inverseSum[x] = sum[x]! > 0 ? 1 / sum[x]! : 0;
  return { weights, inverseSum };
}

/**
 * Multiply the first (or, with fromEnd, the last) `overlap` weights by a ramp rising from 0 at the
 * edge to 1: zero for `margin` pixels, then sin² over the rest. The neighbour's ramp over the
 * same pixels is the mirror image, and sin²(t) + cos²(t) = 1, so the pair sums to one.
 */
function ramp(w: Float32Array, overlap: number, margin: number, fromEnd: boolean): void {
  const m = Math.max(0, Math.min(margin, Math.floor((overlap - 1) / 2)));
  const len = overlap - 2 * m;
  for (let k = 0; k < overlap; k++) {
    // k + 0.5: pixel centres, so the two ramps mirror each other exactly.
    const t = Math.min(1, Math.max(0, (k + 0.5 - m) / len));
    const s = Math.sin((Math.PI / 2) * t);
    const idx = fromEnd ? w.length - 1 - k : k;
    w[idx]! *= s * s;
  }
}
