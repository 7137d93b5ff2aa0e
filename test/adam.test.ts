import { describe, expect, it } from 'vitest';
import { native } from '../bindings/index.js';
import * as mp from '../lib/index.js';
import { expectClose } from './helpers/gradcheck.js';
import { fromStored, loadFixture, type Stored } from './helpers/fixtures.js';

interface AdamCase {
  name: string;
  params: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean };
  param0: Stored;
  grads: Stored[];
  steps: { param: Stored; expAvg: Stored; expAvgSq: Stored }[];
}

describe('adamUpdate', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    it(`matches torch.optim.Adam / AdamW step by step (${dtype}, test/fixtures/adam.json)`, () => {
      // float64 follows PyTorch's formula to the fixture's 10 stored digits; float32 keeps 1e-5.
      const tol = dtype === 'float64' ? 1e-8 : 1e-5;
      for (const c of loadFixture<AdamCase>('adam')) {
        mp.tidy(() => {
          const p = fromStored(c.param0, dtype);
          const m = mp.zerosLike(p);
          const v = mp.zerosLike(p);
          c.grads.forEach((gs, i) => {
            const g = fromStored(gs, dtype);
            mp.adamUpdate(p, g, m, v, { ...c.params, step: i + 1 });
            const want = c.steps[i]!;
            const label = `${c.name} ${JSON.stringify(c.params)} step ${i + 1}`;
            expectClose(p.toFloat64Array(), want.param.data, tol, `${label} param`);
            expectClose(m.toFloat64Array(), want.expAvg.data, tol, `${label} expAvg`);
            expectClose(v.toFloat64Array(), want.expAvgSq.data, tol, `${label} expAvgSq`);
          });
        });
      }
    });
  }

  it('float32 agrees with float64 on a large parameter (vector path, odd size)', () => {
    mp.tidy(() => {
      const n = [52, 104, 3, 3];
      const p32 = mp.randn(n, { generator: new mp.Generator(1) });
      const g32 = mp.randn(n, { generator: new mp.Generator(2) });
      const p64 = p32.astype('float64');
      const g64 = g32.astype('float64');
      const [m32, v32, m64, v64] = [mp.zerosLike(p32), mp.zerosLike(p32), mp.zerosLike(p64), mp.zerosLike(p64)];
      for (let step = 1; step <= 3; step++) {
        mp.adamUpdate(p32, g32, m32, v32, { lr: 1e-3, weightDecay: 0.01, step });
        mp.adamUpdate(p64, g64, m64, v64, { lr: 1e-3, weightDecay: 0.01, step });
      }
      expectClose(p32.toFloat32Array(), p64.toFloat64Array(), 1e-6, 'adam f32 param', 0.1);
    });
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    mp.tidy(() => {
      const p = mp.randn([3, 4]);
      const g = mp.randn([3, 4]);
      const m = mp.zeros([3, 4]);
      const v = mp.zeros([3, 4]);
      const ok = { lr: 1e-3, step: 1 };
      expect(() => mp.adamUpdate(p, mp.randn([4, 3]), m, v, ok)).toThrow(/adamUpdate: 'param' \[3, 4\] and 'grad' \[4, 3\] must have the same shape/);
      expect(() => mp.adamUpdate(p, g, mp.zeros([3, 4], { dtype: 'float64' }), v, ok)).toThrow(/adamUpdate: 'expAvg' is float64/);
      expect(() => mp.adamUpdate(p, g, m, v, { lr: -1, step: 1 })).toThrow(/adamUpdate: 'lr' must be >= 0/);
      expect(() => mp.adamUpdate(p, g, m, v, { ...ok, beta1: 1 })).toThrow(/adamUpdate: 'beta1' must be in \[0, 1\)/);
      expect(() => mp.adamUpdate(p, g, m, v, { ...ok, beta2: -0.1 })).toThrow(/adamUpdate: 'beta2' must be in \[0, 1\)/);
      expect(() => mp.adamUpdate(p, g, m, v, { ...ok, eps: 0 })).toThrow(/adamUpdate: 'eps' must be > 0/);
      expect(() => mp.adamUpdate(p, g, m, v, { ...ok, weightDecay: -1 })).toThrow(/'weightDecay' must be >= 0/);
      expect(() => mp.adamUpdate(p, g, m, v, { lr: 1e-3, step: 0 })).toThrow(/adamUpdate: 'step' must be >= 1/);
      expect(() => native.adamUpdate('cpu', p.handle, g.handle, m.handle, v.handle, 1e-3, 0.9, 0.999, 1e-8, 0, 0, false)).toThrow(/'step' must be in \[1/);
      expect(() => native.adamUpdate('cpu', p.handle, g.handle, m.handle, v.handle, Number.NaN, 0.9, 0.999, 1e-8, 0, 1, false)).toThrow(/'lr' must be finite/);
      expect(() => mp.adamUpdate(p, g, m, m, ok)).toThrow(/'expAvg' and 'expAvgSq' share memory/);
      expect(() => mp.adamUpdate(p, g, m, mp.reshape(m, [12]) as never, ok)).toThrow(RangeError);
      const d = mp.randn([3, 4]);
      d.dispose();
      expect(() => mp.adamUpdate(p, d, m, v, ok)).toThrow(/adamUpdate: 'grad' was disposed/);
    });
  });
});
