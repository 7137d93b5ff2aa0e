// Adam / AdamW and the lr schedules against torch.optim (test/fixtures/optim.json, written by
// test/fixtures/gen_optim.py), plus state round trips and the EMA.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { memory } from '../lib/memory.js';
import { tensor } from '../lib/ops/creation.js';
import { Adam } from '../lib/optim/adam.js';
import { EMA } from '../lib/optim/ema.js';
import { ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, LinearLR, SequentialLR, type LRScheduler } from '../lib/optim/schedules.js';
import { createModel } from '../lib/models/mpfnet/mpfnet.js';
import { makeScheduler } from '../lib/train/trainer.js';
import { item } from './helpers/fixtures.js';
import { expectClose } from './helpers/gradcheck.js';

/** One schedule of gen_optim.py: its settings (each schedule uses some of them) and the lrs torch gave. */
interface ScheduleFixture {
  base: number;
  lrs: number[];
  tMax: number;
  etaMin: number;
  t0: number;
  tMult: number;
  startFactor: number;
  totalIters: number;
  factor: number;
  warmup: number;
}
type ScheduleName = 'cosine' | 'cosine0' | 'restarts' | 'restarts1' | 'linear' | 'constant' | 'warmupCosine';
/** One Adam case: parameters, 3 steps of gradients, and torch's parameters and moments after each. */
interface AdamFixture {
  dtype: 'float32' | 'float64';
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  decoupled: boolean;
  shapes: number[][];
  params: number[][];
  grads: number[][][];
  after: number[][][];
  expAvg: number[][];
  expAvgSq: number[][];
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/optim.json', import.meta.url), 'utf8')) as { schedules: Record<ScheduleName, ScheduleFixture>; adam: AdamFixture[] };

function run(make: (o: { lr: number }) => LRScheduler, base: number, n: number): number[] {
  const opt = { lr: base };
  const s = make(opt);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(opt.lr);
    s.step();
  }
  return out;
}

describe('lr schedules match torch.optim.lr_scheduler', () => {
  const S = fx.schedules;
  const cases: [ScheduleName, (o: { lr: number }) => LRScheduler][] = [
    ['cosine', (o) => new CosineAnnealingLR(o, { tMax: S.cosine.tMax, etaMin: S.cosine.etaMin })],
    ['cosine0', (o) => new CosineAnnealingLR(o, { tMax: S.cosine0.tMax })],
    ['restarts', (o) => new CosineAnnealingWarmRestarts(o, { t0: S.restarts.t0, tMult: S.restarts.tMult, etaMin: S.restarts.etaMin })],
    ['restarts1', (o) => new CosineAnnealingWarmRestarts(o, { t0: S.restarts1.t0 })],
    ['linear', (o) => new LinearLR(o, { startFactor: S.linear.startFactor, totalIters: S.linear.totalIters })],
    ['constant', (o) => new ConstantLR(o, { factor: S.constant.factor, totalIters: S.constant.totalIters })],
    ['warmupCosine', (o) => new SequentialLR(o, [new LinearLR(o, { startFactor: S.warmupCosine.startFactor, totalIters: S.warmupCosine.warmup }), new CosineAnnealingLR(o, { tMax: S.warmupCosine.tMax, etaMin: S.warmupCosine.etaMin })], [S.warmupCosine.warmup])],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      const want = S[name].lrs;
      // PyTorch updates recursively, we use the closed form: equal up to rounding.
      expectClose(run(make, S[name].base, want.length), want, 1e-10, name, 1e-12);
    });
  }

  it('resumes exactly from a state dict, and makeScheduler builds warm-up + cosine', () => {
    const a = { lr: 1e-3 };
    const s = new CosineAnnealingLR(a, { tMax: 100, etaMin: 1e-7 });
    for (let i = 0; i < 37; i++) s.step();
    const b = { lr: 1e-3 };
    const r = new CosineAnnealingLR(b, { tMax: 100, etaMin: 1e-7 });
    r.loadStateDict(s.stateDict());
    expect(b.lr).toBe(a.lr);
    const opt = { lr: 0 };
    const m = makeScheduler(opt, { type: 'cosine', etaMin: 1e-7, warmup: 4, warmupStart: 0.01, period: null, periodMult: 1 }, 1e-3, 12);
    const got = [opt.lr];
    for (let i = 1; i < 12; i++) {
      m.step();
      got.push(opt.lr);
    }
    expectClose(got, S.warmupCosine.lrs, 1e-10, 'makeScheduler', 1e-12);
  });

  it('rejects bad settings', () => {
    expect(() => new CosineAnnealingLR({ lr: 1 }, { tMax: 0 })).toThrow(/tMax must be a positive integer/);
    expect(() => new LinearLR({ lr: 1 }, { startFactor: 0 })).toThrow(/startFactor/);
    expect(() => new SequentialLR({ lr: 1 }, [new ConstantLR({ lr: 1 })], [3])).toThrow(/milestones/);
  });
});

describe('Adam matches torch.optim.Adam / AdamW over 3 steps', () => {
  for (const c of fx.adam) {
    it(`${c.dtype} lr ${c.lr} weightDecay ${c.weightDecay}${c.decoupled ? ' (AdamW)' : ''}`, () => {
      const dtype = c.dtype;
      const params = c.params.map((p, i) => tensor(p, item(c.shapes, i, 'shapes'), { dtype, requiresGrad: true }));
      const opt = new Adam(params, { lr: c.lr, betas: c.betas, eps: c.eps, weightDecay: c.weightDecay, decoupled: c.decoupled });
      const tol = dtype === 'float32' ? 2e-6 : 1e-12;
      c.grads.forEach((step, k) => {
        params.forEach((p, i) => {
          p.grad = tensor(item(step, i, `grads[${k}]`), item(c.shapes, i, 'shapes'), { dtype });
        });
        opt.step();
        opt.zeroGrad();
        params.forEach((p, i) => expectClose(dtype === 'float32' ? p.toFloat32Array() : p.toFloat64Array(), item(item(c.after, k, 'after'), i, `after[${k}]`), tol, `step ${k + 1} param ${i}`));
      });
      const sd = opt.stateDict();
      sd.state.forEach((s, i) => {
        expect(s!.step).toBe(3);
        expectClose(s!.expAvg.toFloat64Array(), item(c.expAvg, i, 'expAvg'), tol, `expAvg ${i}`);
        expectClose(s!.expAvgSq.toFloat64Array(), item(c.expAvgSq, i, 'expAvgSq'), tol, `expAvgSq ${i}`, 1e-12);
      });
      opt.dispose();
      params.forEach((p) => p.dispose());
    });
  }

  it('a restored state dict continues bitwise like the original', () => {
    const mk = () => [tensor([1, 2, 3], [3], { requiresGrad: true }), tensor([-1, 0.5], [2], { requiresGrad: true })];
    const grads = (k: number) => [tensor([0.1 * k, -0.2, 0.3], [3]), tensor([k, -k], [2])];
    const a = mk();
    const oa = new Adam(a, { lr: 0.01 });
    for (let k = 1; k <= 2; k++) {
      grads(k).forEach((g, i) => (a[i]!.grad = g));
      oa.step();
    }
    const b = a.map((t) => tensor(t.toFloat32Array(), t.shape, { requiresGrad: true }));
    const ob = new Adam(b, { lr: 0.5 });
    ob.loadStateDict(oa.stateDict());
    expect(ob.lr).toBe(0.01);
    for (const [p, o] of [[a, oa], [b, ob]] as const) {
      grads(3).forEach((g, i) => (p[i]!.grad = g));
      o.step();
    }
    b.forEach((t, i) => expect(Array.from(t.toFloat32Array())).toEqual(Array.from(a[i]!.toFloat32Array())));
    for (const o of [oa, ob]) o.dispose();
    for (const t of [...a, ...b]) t.dispose();
  });

  it('skips parameters without gradients and validates its settings', () => {
    const p = tensor([1, 2], [2], { requiresGrad: true });
    const opt = new Adam([p]);
    opt.step();
    expect(Array.from(p.toFloat32Array())).toEqual([1, 2]);
    expect(opt.stateDict().state[0]).toBeNull();
    expect(() => new Adam([p], { lr: -1 })).toThrow(/invalid learning rate/);
    expect(() => new Adam([p], { betas: [1, 0.9] })).toThrow(/beta/);
    expect(() => new Adam([])).toThrow(/empty/);
    expect(() => new Adam([p, p])).toThrow(/twice/);
    p.dispose();
  });
});

describe('EMA', () => {
  it('averages weights with the warm-up rule and leaves no tensors behind', () => {
    const before = memory().tensors;
    const model = createModel({ channels: 4, nCpb: 1 }, { seed: 1 });
    const ema = new EMA(model, createModel({ channels: 4, nCpb: 1 }, { seed: 2 }), { decay: 0.9 });
    const w0 = model.parameters()[0]!.toFloat64Array();
    expect(ema.shadow.parameters()[0]!.toFloat64Array()).toEqual(w0);
    expect(ema.currentDecay()).toBeCloseTo(0.1, 12); // (1 + 0) / (10 + 0)
    // Move the model's first weight to 1 + w0 and update twice.
    const moved = tensor(Float64Array.from(w0, (x) => x + 1), model.parameters()[0]!.shape);
    model.loadStateDict(new Map([[[...model.namedParameters()][0]![0], moved]]), { strict: false });
    moved.dispose();
    ema.update(); // d = 0.1: s = 0.1 w0 + 0.9 (w0 + 1) = w0 + 0.9
    ema.update(); // d = 2/11: s = d (w0 + 0.9) + (1 - d)(w0 + 1)
    const d = 2 / 11;
    const s = ema.shadow.parameters()[0]!.toFloat64Array();
    expectClose(s, Array.from(w0, (x) => x + d * 0.9 + (1 - d)), 1e-6, 'ema');
    expect(ema.stateDict()).toEqual({ updates: 2 });
    ema.dispose();
    model.dispose();
    expect(memory().tensors).toBe(before);
  });
});
