// Per-layer parameter and MAC counts of an MPF-Net for an input of h×w, computed from the module
// tree (no forward pass). A conv costs out_pixels · C_out · C_in · kh · kw MACs (docs/model.md §1), a
// linear layer in · out per image; elementwise work (SELU, SE scaling, adds) is not counted.
import { Conv2d } from '../../nn/conv2d.js';
import { Linear } from '../../nn/linear.js';
import type { MPFNet } from './mpfnet.js';

/** One layer's (or part's) parameters and multiply-adds. */
export interface LayerSummary {
  name: string;
  type: 'Conv2d' | 'Linear';
  /** Input shape for batch 1: [C, h, w] for convs, [features] for linear layers. */
  input: number[];
  output: number[];
  params: number;
  macs: number;
}

/** What {@link summary} returns: totals, input and output shapes, parts and layers. */
export interface ModelSummary {
  /** [N, 3, h, w] */
  input: number[];
  output: number[];
  params: number;
  /** Multiply-accumulates of one forward pass of the whole batch. */
  macs: number;
  /** Totals per top-level part (head, mpfe, cpbs, fuse, body, up, tail). */
  parts: { name: string; params: number; macs: number }[];
  layers: LayerSummary[];
}

function countParams(m: { namedParameters(): IterableIterator<[string, { numel: number }]> }): number {
  let n = 0;
  for (const [, t] of m.namedParameters()) n += t.numel;
  return n;
}

/** Parameters and MACs of `model` for an input of `size` = [h, w] (batch `batch`, default 1). */
export function summary(model: MPFNet, size: [number, number], batch = 1): ModelSummary {
  const [h, w] = size;
  if (![h, w, batch].every((v) => Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`summary: size and batch must be positive integers, got [${size.join(', ')}], ${batch}`);
  const s = model.scale;
  // Spatial size each conv sees: the upsampler's second conv (×4) runs at 2h×2w, the tail at s·h×s·w.
  const sizeOf = (name: string): [number, number] => {
    if (name === 'tail') return [s * h, s * w];
    const m = /^up\.(\d+)$/.exec(name);
    if (m) {
      const f = s === 4 ? 2 ** (Number(m[1]) / 2) : 1;
      return [f * h, f * w];
    }
    return [h, w];
  };
  const layers: LayerSummary[] = [];
  for (const [name, mod] of model.namedModules()) {
    if (mod instanceof Conv2d) {
      const [ih, iw] = sizeOf(name);
      const [oh, ow] = mod.outputSize(ih, iw);
      layers.push({ name, type: 'Conv2d', input: [mod.inChannels, ih, iw], output: [mod.outChannels, oh, ow], params: countParams(mod), macs: batch * mod.macs(ih, iw) });
    } else if (mod instanceof Linear) {
      layers.push({ name, type: 'Linear', input: [mod.inFeatures], output: [mod.outFeatures], params: countParams(mod), macs: batch * mod.macs() });
    }
  }
  const parts = new Map<string, { name: string; params: number; macs: number }>();
  for (const l of layers) {
    const top = l.name.split('.')[0]!;
    const p = parts.get(top) ?? { name: top, params: 0, macs: 0 };
    p.params += l.params;
    p.macs += l.macs;
    parts.set(top, p);
  }
  return {
    input: [batch, 3, h, w],
    output: [batch, 3, s * h, s * w],
    params: model.numParameters(),
    macs: layers.reduce((a, l) => a + l.macs, 0),
    parts: [...parts.values()],
    layers,
  };
}

function si(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

/** A text table: one row per part, or per layer with `layers`. */
export function formatSummary(sm: ModelSummary, o: { layers?: boolean } = {}): string {
  const rows: string[][] = [['layer', 'output', 'params', 'MACs']];
  if (o.layers) for (const l of sm.layers) rows.push([l.name, `[${l.output.join('×')}]`, l.params.toLocaleString('en-US'), si(l.macs)]);
  else for (const p of sm.parts) rows.push([p.name, '', p.params.toLocaleString('en-US'), si(p.macs)]);
  rows.push(['total', `[${sm.output.join('×')}]`, sm.params.toLocaleString('en-US'), si(sm.macs)]);
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  const line = (r: string[]) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ');
  return [
    `MPF-Net ×${sm.output[2]! / sm.input[2]!}, input [${sm.input.join('×')}]`,
    line(rows[0]!),
    ...rows.slice(1).map(line),
    `${(sm.params / 1e6).toFixed(2)} M parameters, ${(sm.macs / 1e9).toFixed(1)} GMACs`,
  ].join('\n');
}
