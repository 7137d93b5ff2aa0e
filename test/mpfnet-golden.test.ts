// MPF-Net against PyTorch (test/fixtures/mpfnet-<case>.json, written by gen_mpfnet.py from
// checkpoints our `mpfnet init` wrote): the seeded initialisation, the forward pass, the L1 loss,
// every parameter's gradient and the weights after 3 Adam steps, in float32 (1e-4 relative) and,
// for the small models, float64 (1e-9). Large tensors are compared through summaries: the norm and
// the dot product with a seeded random vector.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tidy } from '../lib/autograd/scope.js';
import { MPFNet, createModel } from '../lib/models/mpfnet/mpfnet.js';
import { tensor } from '../lib/ops/creation.js';
import { l1Loss } from '../lib/ops/index.js';
import { Adam } from '../lib/optim/adam.js';
import { Generator, uniform01 } from '../lib/random.js';
import type { DType, Tensor } from '../lib/tensor.js';

interface Summary {
  norm: number;
  dot: number;
  values?: number[];
  stride?: number;
  sample?: number[];
}
interface Fixture {
  config: Record<string, unknown>;
  seed: number;
  input: { shape: number[]; seed: number };
  target: { shape: number[]; seed: number };
  rseed: number;
  params: string[];
  /** All initial weights as one vector, and each parameter's dot product. */
  init: Summary & { dots: number[] };
  output: Summary;
  loss: number;
  /** Per parameter, in state-dict order. */
  grads: Columns;
  adam: { lr: number; steps: number; losses: number[]; after: Columns; delta: Columns };
}
interface Columns {
  norm: number[];
  dot: number[];
}
const col = (c: Columns, i: number): Summary => ({ norm: c.norm[i]!, dot: c.dot[i]! });

const CASES = ['small', 'nocross', 'x2', 'x3', 'x4'];
/** A committed fixture; a missing one fails the file, naming it and the script that writes it. */
const load = (name: string): Fixture => {
  const url = new URL(`./fixtures/mpfnet-${name}.json`, import.meta.url);
  if (!existsSync(url)) throw new Error(`missing golden fixture ${url.pathname}: regenerate it with python3 test/fixtures/gen_mpfnet.py`);
  return JSON.parse(readFileSync(url, 'utf8')) as Fixture;
};

const rcache = new Map<number, Float64Array>();
/** r_i = uniform01(rseed, i) - 0.5, the fixture's random direction. */
function rvec(seed: number, n: number): Float64Array {
  let r = rcache.get(seed);
  if (!r || r.length < n) {
    r = Float64Array.from({ length: n }, (_, i) => uniform01(seed, i) - 0.5);
    rcache.set(seed, r);
  }
  return r;
}

function seeded(seed: number, shape: number[], dtype: DType): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  // float32 first, as the generator does, so the float64 run sees the same values.
  const v = Float32Array.from({ length: n }, (_, i) => uniform01(seed, i));
  return tensor(dtype === 'float64' ? Float64Array.from(v) : v, shape, { dtype });
}

function summarise(v: Float32Array | Float64Array, rseed: number): { norm: number; dot: number } {
  const r = rvec(rseed, v.length);
  let ss = 0;
  let dot = 0;
  for (let i = 0; i < v.length; i++) {
    ss += v[i]! * v[i]!;
    dot += v[i]! * r[i]!;
  }
  return { norm: Math.sqrt(ss), dot };
}

/**
 * Compare a tensor with a summary. The dot product's error is measured against the norm-scaled
 * size of a random dot product (|r| ≈ 0.29 √n), so a dot that happens to be near 0 is not
 * judged by relative error alone.
 */
function expectSummary(actual: Float32Array | Float64Array, want: Summary, rseed: number, rtol: number, label: string): number {
  const s = summarise(actual, rseed);
  const scale = want.norm * 0.29;
  const errNorm = Math.abs(s.norm - want.norm) / Math.max(want.norm, 1e-30);
  const errDot = Math.abs(s.dot - want.dot) / Math.max(Math.abs(want.dot), scale, 1e-30);
  let worst = Math.max(errNorm, errDot);
  if (want.values) {
    for (let i = 0; i < want.values.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - want.values[i]!) / Math.max(Math.abs(want.values[i]!), want.norm / Math.sqrt(want.values.length) * 1e-2));
  }
  if (want.sample) {
    const rms = want.norm / Math.sqrt(actual.length);
    want.sample.forEach((w, k) => (worst = Math.max(worst, Math.abs(actual[k * want.stride!]! - w) / Math.max(Math.abs(w), rms * 1e-2))));
  }
  if (!(worst <= rtol)) throw new Error(`${label}: relative error ${worst.toExponential(3)} > ${rtol} (norm ${s.norm} vs ${want.norm}, dot ${s.dot} vs ${want.dot})`);
  return worst;
}

function read(t: Tensor): Float32Array | Float64Array {
  return t.dtype === 'float64' ? t.toFloat64Array() : t.toFloat32Array();
}

function runCase(fx: Fixture, dtype: DType, rtol: number): { output: number; grads: number; adam: number } {
  // float64 runs use the float32 seeded weights widened, as the generator does.
  const seeded32 = createModel(fx.config, { seed: fx.seed });
  const model: MPFNet = dtype === 'float32' ? seeded32 : new MPFNet(fx.config, { dtype, generator: new Generator(0) }).loadStateDict(seeded32.stateDict());
  if (model !== seeded32) seeded32.dispose();
  const x = seeded(fx.input.seed, fx.input.shape, dtype);
  const y = seeded(fx.target.seed, fx.target.shape, dtype);
  const worst = { output: 0, grads: 0, adam: 0 };
  try {
    const named = [...model.namedParameters()];
    expect(named.map(([n]) => n)).toEqual(fx.params);
    // The seeded init reproduces the file `mpfnet init` wrote (float32 values; sums in float64,
    // 10 significant digits stored).
    const all = new Float64Array(named.reduce((a, [, p]) => a + p.numel, 0));
    let at = 0;
    named.forEach(([n, p], i) => {
      const v = p.toFloat32Array();
      all.set(v, at);
      at += v.length;
      const dot = summarise(v, fx.rseed).dot;
      expect(Math.abs(dot - fx.init.dots[i]!), `init ${n}`).toBeLessThanOrEqual(1e-9 * Math.max(Math.abs(dot), 1e-3));
    });
    expectSummary(all, { norm: fx.init.norm, dot: fx.init.dot }, fx.rseed, 1e-9, 'init (all weights)');
    tidy(() => {
      const out = model.forward(x);
      expect(out.shape).toEqual(fx.target.shape);
      worst.output = expectSummary(read(out), fx.output, fx.rseed, rtol, 'output');
      const loss = l1Loss(out, y);
      expect(Math.abs(loss.item() - fx.loss) / fx.loss).toBeLessThan(rtol);
      loss.backward();
    });
    named.forEach(([n, p], i) => (worst.grads = Math.max(worst.grads, expectSummary(read(p.grad!), col(fx.grads, i), fx.rseed, rtol, `grad ${n}`))));
    const opt = new Adam(model.parameters(), { lr: fx.adam.lr });
    const w0 = named.map(([, p]) => read(p));
    const losses: number[] = [];
    for (let k = 0; k < fx.adam.steps; k++) {
      losses.push(
        tidy(() => {
          opt.zeroGrad();
          const l = l1Loss(model.forward(x), y);
          l.backward();
          return l.item();
        }),
      );
      opt.step();
    }
    losses.forEach((l, k) => expect(Math.abs(l - fx.adam.losses[k]!) / fx.adam.losses[k]!, `Adam loss ${k}`).toBeLessThan(rtol));
    named.forEach(([n, p], i) => {
      const w = read(p);
      worst.adam = Math.max(worst.adam, expectSummary(w, col(fx.adam.after, i), fx.rseed, rtol, `weights after Adam ${n}`));
      // The update itself (w3 - w0) is compared too, more loosely: Adam normalises each gradient
      // element, so elements whose gradient is at rounding level move by ±lr either way.
      const d = w.map((v, j) => v - w0[i]![j]!);
      expectSummary(d, col(fx.adam.delta, i), fx.rseed, dtype === 'float64' ? rtol : 2e-2, `Adam update ${n}`);
    });
    opt.dispose();
  } finally {
    model.dispose();
    x.dispose();
    y.dispose();
  }
  return worst;
}

describe('MPF-Net matches PyTorch', () => {
  for (const name of CASES) {
    const fx = load(name);
    it(`${name} ${JSON.stringify(fx.config)}: init, output, gradients, 3 Adam steps (float32)`, () => {
      const w = runCase(fx, 'float32', 1e-4);
      console.log(`golden ${name} float32: worst relative error output ${w.output.toExponential(2)}, gradients ${w.grads.toExponential(2)}, weights after Adam ${w.adam.toExponential(2)}`);
    });
    if (name === 'small' || name === 'nocross') {
      it(`${name}: float64 agrees to 1e-9`, () => {
        const w = runCase(fx, 'float64', 1e-9);
        console.log(`golden ${name} float64: output ${w.output.toExponential(2)}, gradients ${w.grads.toExponential(2)}, Adam ${w.adam.toExponential(2)}`);
      });
    }
  }
});
