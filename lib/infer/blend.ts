// Blends tile outputs into the image, one band of rows at a time. Tiles arrive in raster order;
// the accumulator holds only the output rows the current row of tiles covers (scale × window
// rows × the full width), and when a row of tiles is done, the rows no later tile touches are
// final: they are normalised by the blending weights and passed on (to the image being built,
// or to the outscale resizer), and the band moves down. So memory for floats is bounded by the
// tile size, not by the image.
import type { RowSink } from './stream-resize.js';
import { axisWeights, type AxisWeights, type TilePlan } from './tiles.js';

export class BandAccumulator {
  readonly channels: number;
  readonly scale: number;
  readonly width: number;
  readonly height: number;
  readonly #plan: TilePlan;
  readonly #wy: AxisWeights;
  readonly #wx: AxisWeights;
  readonly #band: Float32Array;
  readonly #bandRows: number;
  readonly #sink: RowSink;
  #bandStart = 0;
  #row = 0;
  #tilesInRow = 0;

  constructor(plan: TilePlan, scale: number, channels: number, margin: number, sink: RowSink) {
    this.#plan = plan;
    this.scale = scale;
    this.channels = channels;
    this.height = plan.rows.length * scale;
    this.width = plan.cols.length * scale;
    this.#wy = axisWeights(plan.rows, scale, margin);
    this.#wx = axisWeights(plan.cols, scale, margin);
    this.#bandRows = plan.rows.window * scale;
    this.#band = new Float32Array(channels * this.#bandRows * this.width);
    this.#sink = sink;
  }

  /**
   * Add the output of tile (row i, column j): planar C × (scale·window) × (scale·window).
   * Tiles must come in raster order.
   */
  add(i: number, j: number, data: Float32Array): void {
    if (i !== this.#row || j !== this.#tilesInRow) throw new Error(`BandAccumulator: expected tile (${this.#row}, ${this.#tilesInRow}), got (${i}, ${j})`);
    const s = this.scale;
    const th = this.#plan.rows.window * s;
    const tw = this.#plan.cols.window * s;
    if (data.length !== this.channels * th * tw) throw new RangeError(`BandAccumulator: tile (${i}, ${j}) has ${data.length} values, expected ${this.channels}×${th}×${tw}`);
    const wy = this.#wy.weights[i]!;
    const wx = this.#wx.weights[j]!;
    const y0 = this.#plan.rows.starts[i]! * s - this.#bandStart;
    const x0 = this.#plan.cols.starts[j]! * s;
    const W = this.width;
    const R = this.#bandRows;
    for (let c = 0; c < this.channels; c++) {
      for (let y = 0; y < th; y++) {
        const wrow = wy[y]!;
        if (wrow === 0) continue;
        const src = (c * th + y) * tw;
        const dst = (c * R + y0 + y) * W + x0;
        for (let x = 0; x < tw; x++) this.#band[dst + x]! += data[src + x]! * wrow * wx[x]!;
      }
    }
    this.#tilesInRow++;
    if (this.#tilesInRow === this.#plan.cols.starts.length) this.#finishRow();
  }

  #finishRow(): void {
    const s = this.scale;
    const starts = this.#plan.rows.starts;
    const last = this.#row === starts.length - 1;
    // Rows above the next row of tiles get nothing more.
    const finalEnd = last ? this.height : starts[this.#row + 1]! * s;
    const n = finalEnd - this.#bandStart;
    const W = this.width;
    const R = this.#bandRows;
    const C = this.channels;
    const out = new Float32Array(C * n * W);
    const iy = this.#wy.inverseSum;
    const ix = this.#wx.inverseSum;
    for (let c = 0; c < C; c++)
      for (let y = 0; y < n; y++) {
        const f = iy[this.#bandStart + y]!;
        const src = (c * R + y) * W;
        const dst = (c * n + y) * W;
        for (let x = 0; x < W; x++) out[dst + x] = this.#band[src + x]! * f * ix[x]!;
      }
    // Move the partial sums of the rows still open to the top of the band.
    for (let c = 0; c < C; c++) {
      const base = c * R * W;
      this.#band.copyWithin(base, base + n * W, base + R * W);
      this.#band.fill(0, base + (R - n) * W, base + R * W);
    }
    this.#bandStart = finalEnd;
    this.#row++;
    this.#tilesInRow = 0;
    this.#sink.write(out, n);
  }

  /** Whether every tile has been added (and every row passed on). */
  get done(): boolean {
    return this.#row === this.#plan.rows.starts.length;
  }
}
