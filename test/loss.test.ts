import { describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';
import { checkAgainstTorch, loadFixture, type FixtureCase } from './helpers/fixtures.js';

describe('l1Loss', () => {
  for (const reduction of ['mean', 'sum'] as const) {
    for (const shape of [[2, 3, 5, 7], [13], [1]]) {
      it(`${reduction} [${shape}]: gradients of pred and target match finite differences`, () => {
        mp.tidy(() => gradcheck((p, t) => mp.l1Loss(p, t, reduction), [randLeaf(shape, 1), randLeaf(shape, 2)]));
      });
    }
  }

  it('gives shape [1], a zero gradient at ties, and the default reduction is mean', () => {
    mp.tidy(() => {
      const p = mp.tensor([1, 2, 3, 4], [4], { dtype: 'float64', requiresGrad: true });
      const t = mp.tensor([0, 2, 5, 4], [4], { dtype: 'float64' });
      const y = mp.l1Loss(p, t);
      expect(y.shape).toEqual([1]);
      expect(y.item()).toBe(0.75);
      y.backward();
      expect(Array.from(p.grad!.toFloat64Array())).toEqual([0.25, 0, -0.25, 0]);
      expect(mp.l1Loss(p, t, 'sum').item()).toBe(3);
    });
  });

  it('float32 agrees with float64 on a large batch', () => {
    mp.tidy(() => {
      const p = mp.randn([8, 3, 192, 192], { generator: new mp.Generator(1) });
      const t = mp.rand([8, 3, 192, 192], { generator: new mp.Generator(2) });
      const y32 = mp.l1Loss(p, t).item();
      const y64 = mp.l1Loss(p.astype('float64'), t.astype('float64')).item();
      expectClose([y32], [y64], 1e-6, 'l1 f32');
    });
  });

  it('matches PyTorch (test/fixtures/loss.json)', () => {
    for (const c of loadFixture<FixtureCase<{ reduction: 'mean' | 'sum' }>>('loss')) checkAgainstTorch(c, (p, t) => mp.l1Loss(p, t, c.params.reduction));
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    mp.tidy(() => {
      const p = mp.randn([2, 3]);
      expect(() => mp.l1Loss(p, mp.randn([3, 2]))).toThrow(RangeError);
      expect(() => mp.l1Loss(p, mp.randn([3, 2]))).toThrow(/l1Loss: 'pred' \[2, 3\] and 'target' \[3, 2\] must have the same shape/);
      expect(() => mp.l1Loss(p, mp.randn([2, 3], { dtype: 'float64' }))).toThrow(/l1Loss: 'target' is float64/);
      expect(() => mp.l1Loss(p, p, 'max' as never)).toThrow(/l1Loss: 'reduction' must be "mean" or "sum"/);
      expect(() => mp.l1Loss(p, [1, 2] as never)).toThrow(/l1Loss: 'target' must be a Tensor/);
      const d = mp.randn([2, 3]);
      d.dispose();
      expect(() => mp.l1Loss(d, p)).toThrow(/l1Loss: 'pred' was disposed/);
    });
  });
});
