// MATLAB's imresize (bicubic, a = -0.5; antialiased when shrinking; symmetric padding), the same
// map as lib/ops/resize.ts, computed on rows as they stream in: upscale()'s `outscale` resizes the
// model's output without ever holding it whole in floats. Each axis is a sparse linear map given
// by MATLAB's contributions(): output sample j reads `taps` input samples with fixed weights.
// Rows are resized horizontally as they arrive; an output row is made as soon as every input row
// its taps read has arrived, and input rows no later output row reads are dropped.

/** One axis of MATLAB's resize: output j = Σ_k weights[j·taps + k] · input[indices[j·taps + k]]. */
export interface AxisMap {
  inLength: number;
  outLength: number;
  taps: number;
  indices: Int32Array;
  weights: Float64Array;
}

function cubic(x: number): number {
  const a = Math.abs(x);
  const a2 = a * a;
  const a3 = a2 * a;
  if (a <= 1) return 1.5 * a3 - 2.5 * a2 + 1;
  if (a <= 2) return -0.5 * a3 + 2.5 * a2 - 4 * a + 2;
  return 0;
}

/** MATLAB's contributions() for the cubic kernel, scale = outLength / inLength (as for a size). */
export function cubicAxisMap(inLength: number, outLength: number, antialias = true): AxisMap {
  const scale = outLength / inLength;
  const shrink = scale < 1 && antialias;
  const width = shrink ? 4 / scale : 4;
  const h = shrink ? (x: number) => scale * cubic(scale * x) : cubic;
  const taps = Math.ceil(width) + 2;
  const indices = new Int32Array(outLength * taps);
  const weights = new Float64Array(outLength * taps);
  const period = 2 * inLength;
  for (let j = 0; j < outLength; j++) {
    // MATLAB's 1-based u and left, so the taps land exactly where imresize puts them.
    const u = (j + 1) / scale + 0.5 * (1 - 1 / scale);
    const left = Math.floor(u - width / 2);
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const w = h(u - (left + k));
      weights[j * taps + k] = w;
      sum += w;
    }
    for (let k = 0; k < taps; k++) {
      weights[j * taps + k]! /= sum;
      // Symmetric padding: 1-based index i maps into [1..n, n..1] repeated.
      const m = (((left + k - 1) % period) + period) % period;
      indices[j * taps + k] = m < inLength ? m : period - 1 - m;
    }
  }
  return { inLength, outLength, taps, indices, weights };
}

/** Consumes planar rows (C × n × width), in order from row 0. */
export interface RowSink {
  write(rows: Float32Array, n: number): void;
}

/** Resizes a stream of planar rows (C × inH × inW) to C × outH × outW, passing rows to `sink`. */
export class StreamingResizer implements RowSink {
  readonly channels: number;
  readonly inWidth: number;
  readonly outWidth: number;
  readonly #cols: AxisMap | null;
  readonly #rows: AxisMap | null;
  readonly #sink: RowSink;
  /** Horizontally resized input rows still needed, by input row index (each C × outW). */
  readonly #held = new Map<number, Float32Array>();
  /** suffixMin[j]: the lowest input row any output row >= j reads. */
  readonly #suffixMin: Int32Array | null;
  readonly #suffixMax: Int32Array | null;
  #received = 0;
  #emitted = 0;

  constructor(channels: number, inSize: [number, number], outSize: [number, number], sink: RowSink) {
    this.channels = channels;
    const [inH, inW] = inSize;
    const [outH, outW] = outSize;
    this.inWidth = inW;
    this.outWidth = outW;
    this.#cols = inW === outW ? null : cubicAxisMap(inW, outW);
    this.#rows = inH === outH ? null : cubicAxisMap(inH, outH);
    this.#sink = sink;
    if (this.#rows) {
      const { outLength, taps, indices } = this.#rows;
      this.#suffixMin = new Int32Array(outLength + 1).fill(inH);
      this.#suffixMax = new Int32Array(outLength);
      for (let j = outLength - 1; j >= 0; j--) {
        let lo = inH;
        let hi = 0;
        for (let k = 0; k < taps; k++) {
          lo = Math.min(lo, indices[j * taps + k]!);
          hi = Math.max(hi, indices[j * taps + k]!);
        }
        this.#suffixMin[j] = Math.min(lo, this.#suffixMin[j + 1]!);
        this.#suffixMax[j] = hi;
      }
    } else {
      this.#suffixMin = null;
      this.#suffixMax = null;
    }
  }

  write(rows: Float32Array, n: number): void {
    const C = this.channels;
    const inW = this.inWidth;
    const outW = this.outWidth;
    const resized = this.#cols ? new Float32Array(C * n * outW) : rows;
    if (this.#cols) {
      const { taps, indices, weights } = this.#cols;
      for (let c = 0; c < C; c++)
        for (let r = 0; r < n; r++) {
          const src = (c * n + r) * inW;
          const dst = (c * n + r) * outW;
          for (let j = 0; j < outW; j++) {
            let acc = 0;
            for (let k = 0; k < taps; k++) acc += weights[j * taps + k]! * rows[src + indices[j * taps + k]!]!;
            resized[dst + j] = acc;
          }
        }
    }
    if (!this.#rows) {
      this.#sink.write(resized, n);
      return;
    }
    for (let r = 0; r < n; r++) {
      const row = new Float32Array(C * outW);
      for (let c = 0; c < C; c++) row.set(resized.subarray((c * n + r) * outW, (c * n + r + 1) * outW), c * outW);
      this.#held.set(this.#received + r, row);
    }
    this.#received += n;
    this.#emit();
  }

  #emit(): void {
    const map = this.#rows!;
    const { taps, indices, weights, outLength } = map;
    const C = this.channels;
    const outW = this.outWidth;
    let end = this.#emitted;
    while (end < outLength && this.#suffixMax![end]! < this.#received) end++;
    const n = end - this.#emitted;
    if (n === 0) return;
    const out = new Float32Array(C * n * outW);
    for (let j = this.#emitted; j < end; j++) {
      const r = j - this.#emitted;
      for (let k = 0; k < taps; k++) {
        const w = weights[j * taps + k]!;
        if (w === 0) continue;
        const src = this.#held.get(indices[j * taps + k]!)!;
        for (let c = 0; c < C; c++) {
          const s = c * outW;
          const d = (c * n + r) * outW;
          for (let x = 0; x < outW; x++) out[d + x]! += w * src[s + x]!;
        }
      }
    }
    this.#emitted = end;
    const keepFrom = this.#suffixMin![end]!;
    for (const i of this.#held.keys()) if (i < keepFrom) this.#held.delete(i);
    this.#sink.write(out, n);
  }
}
