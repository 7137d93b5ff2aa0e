import { describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';
import { checkAgainstTorch, fixtureWeights, loadFixture } from './helpers/fixtures.js';

// [x shape, hidden, with biases]
const CASES: [number[], number, boolean][] = [
  [[2, 6, 4, 5], 3, true],
  [[1, 4, 3, 3], 2, false],
  [[3, 5, 1, 2], 4, true],
];

describe('squeezeExcite (fused op)', () => {
  for (const [shape, hidden, bias] of CASES) {
    it(`[${shape}] hidden ${hidden}${bias ? '' : ', no biases'}: every gradient matches finite differences`, () => {
      mp.tidy(() => {
        const c = shape[1]!;
        const leaves = [randLeaf(shape, 1), randLeaf([hidden, c], 2, { scale: 0.6 }), randLeaf([hidden], 3, { scale: 0.3 }),
          randLeaf([c, hidden], 4, { scale: 0.6 }), randLeaf([c], 5, { scale: 0.3 })];
        if (bias) gradcheck((x, w1, b1, w2, b2) => mp.squeezeExcite(x, w1, b1, w2, b2), leaves);
        else gradcheck((x, w1, w2) => mp.squeezeExcite(x, w1, null, w2, null), [leaves[0]!, leaves[1]!, leaves[3]!]);
      });
    });
  }

  it('matches PyTorch (test/fixtures/squeeze_excite.json)', () => {
    for (const c of loadFixture('squeeze_excite'))
      checkAgainstTorch(c, (...t) => (c.params.bias ? mp.squeezeExcite(t[0]!, t[1]!, t[2]!, t[3]!, t[4]!) : mp.squeezeExcite(t[0]!, t[1]!, null, t[2]!, null)), 1e-12, 1e-10);
  });

  for (const dtype of ['float64', 'float32'] as const) {
    it(`SqueezeExcite.forward (fused) equals the composite path, values and gradients (${dtype})`, () => {
      mp.tidy(() => {
        const se = new mp.SqueezeExcite(52, { dtype, generator: new mp.Generator(7) });
        const x = mp.randn([2, 52, 6, 7], { dtype, generator: new mp.Generator(8) });
        x.requiresGrad = true;
        const run = (f: (t: mp.Tensor) => mp.Tensor) => {
          se.zeroGrad();
          x.grad?.dispose();
          x.grad = null;
          const y = f(x);
          y.backward(fixtureWeights(y.shape, dtype));
          return [y, x.grad!, ...se.parameters().map((p) => p.grad!)].map((t) => t.toFloat64Array());
        };
        const fused = run((t) => se.forward(t));
        const composite = run((t) => se.forwardComposite(t));
        // float32: the two paths sum in different orders (the weight gradients cancel over the batch)
        const tol = dtype === 'float64' ? 1e-12 : 2e-4;
        fused.forEach((v, i) => expectClose(v, composite[i]!, tol, `${dtype} tensor ${i}`));
      });
    });
  }

  it('200 forward/backward steps inside tidy() leave memory() flat (saved mean and scratch freed)', () => {
    const g = new mp.Generator(3);
    const x = mp.randn([2, 8, 5, 5], { generator: g });
    const ws = [mp.randn([2, 8], { generator: g }), mp.randn([2], { generator: g }), mp.randn([8, 2], { generator: g }), mp.randn([8], { generator: g })];
    ws.forEach((w) => w.requiresGrad_());
    const step = () =>
      mp.tidy(() => {
        mp.sum(mp.squeezeExcite(x, ws[0]!, ws[1]!, ws[2]!, ws[3]!)).backward();
        for (const w of ws) {
          w.grad!.dispose();
          w.grad = null;
        }
      });
    step();
    const before = mp.memory();
    for (let k = 0; k < 200; k++) step();
    const after = mp.memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
    [x, ...ws].forEach((t) => t.dispose());
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    mp.tidy(() => {
      const x = mp.randn([2, 4, 3, 3]);
      const w1 = mp.randn([2, 4]), b1 = mp.randn([2]), w2 = mp.randn([4, 2]), b2 = mp.randn([4]);
      expect(() => mp.squeezeExcite(mp.randn([4, 3, 3]), w1, b1, w2, b2)).toThrow(/squeezeExcite: 'x' must be 4-D/);
      expect(() => mp.squeezeExcite(x, mp.randn([2, 5]), b1, w2, b2)).toThrow(/squeezeExcite: 'w1' \[2, 5\] must be \(hidden, 4\)/);
      expect(() => mp.squeezeExcite(x, w1, b1, mp.randn([4, 3]), b2)).toThrow(/squeezeExcite: 'w2' must have shape \[4, 2\]/);
      expect(() => mp.squeezeExcite(x, w1, mp.randn([3]), w2, b2)).toThrow(/squeezeExcite: 'b1' must have shape \[2\]/);
      expect(() => mp.squeezeExcite(x, w1, b1, w2, mp.randn([5]))).toThrow(RangeError);
      expect(() => mp.squeezeExcite(x, w1, b1, w2.astype('float64'), b2)).toThrow(/squeezeExcite/);
      expect(() => mp.squeezeExcite(x, 'w1' as never, b1, w2, b2)).toThrow(TypeError);
    });
  });

  it('squeezeExciteInPlace writes exactly what squeezeExcite returns, into x, with and without means', () => {
    for (const dtype of ['float32', 'float64'] as const)
      for (const withMeans of [false, true])
        mp.tidy(() => {
          const g = new mp.Generator(9);
          const x = mp.randn([2, 6, 7, 5], { dtype, generator: g });
          const ws = [mp.randn([3, 6], { dtype, generator: g }), mp.randn([3], { dtype, generator: g }), mp.randn([6, 3], { dtype, generator: g })];
          const means = withMeans ? mp.mean(x, [2, 3]) : null;
          const want = mp.squeezeExcite(x, ws[0]!, ws[1]!, ws[2]!, null, means).toFloat64Array();
          const before = mp.memory();
          mp.squeezeExciteInPlace(x, ws[0]!, ws[1]!, ws[2]!, null, means);
          expect(mp.memory()).toEqual(before); // no new tensor, the pooled means freed
          expect(Array.from(x.toFloat64Array())).toEqual(Array.from(want));
        });
  });

  it('squeezeExciteScales gives the scales squeezeExcite applies: x · s equals its output exactly', () => {
    for (const dtype of ['float32', 'float64'] as const)
      mp.tidy(() => {
        const g = new mp.Generator(11);
        const x = mp.randn([2, 6, 7, 5], { dtype, generator: g });
        const [w1, b1, w2, b2] = [mp.randn([3, 6], { dtype, generator: g }), mp.randn([3], { dtype, generator: g }), mp.randn([6, 3], { dtype, generator: g }), mp.randn([6], { dtype, generator: g })];
        const means = mp.mean(x, [2, 3]);
        const s = mp.noGrad(() => mp.squeezeExciteScales(means, w1, b1, w2, b2));
        expect(s.shape).toEqual([2, 6]);
        // against the composite of independent ops (each checked against PyTorch)
        const composite = mp.sigmoid(mp.linear(mp.relu(mp.linear(means, w1, b1)), w2, b2));
        expectClose(s.toFloat64Array(), composite.toFloat64Array(), dtype === 'float32' ? 1e-6 : 1e-14, `scales ${dtype}`);
        const want = mp.squeezeExcite(x, w1, b1, w2, b2, means).toFloat64Array();
        expect(Array.from(mp.mul(x, mp.reshape(s, [2, 6, 1, 1])).toFloat64Array())).toEqual(Array.from(want));
      });
  });

  it('squeezeExciteScales refuses what it cannot do, naming it', () => {
    mp.tidy(() => {
      const m = mp.rand([1, 4]);
      const w1 = mp.randn([2, 4]), w2 = mp.randn([4, 2]);
      expect(() => mp.squeezeExciteScales(mp.rand([1, 4, 1]), w1, null, w2, null)).toThrow(/squeezeExciteScales: 'means' must be 2-D/);
      expect(() => mp.squeezeExciteScales(m, mp.randn([2, 5]), null, w2, null)).toThrow(/squeezeExciteScales: 'w1' \[2, 5\] must be \(hidden, 4\) for 'means' \[1, 4\]/);
      expect(() => mp.squeezeExciteScales(m, w1, mp.rand([3]), w2, null)).toThrow(/squeezeExciteScales: 'b1' must have shape \[2\]/);
      expect(() => mp.squeezeExciteScales(m, w1, null, w2.astype('float64'), null)).toThrow(TypeError);
      expect(() => mp.squeezeExciteScales(m, 'w1' as never, null, w2, null)).toThrow(/squeezeExciteScales: 'w1' must be a Tensor/);
      const leaf = mp.randn([2, 4]).requiresGrad_();
      expect(() => mp.squeezeExciteScales(m, leaf, null, w2, null)).toThrow(/squeezeExciteScales: has no gradient/);
      const gone = mp.rand([1, 4]);
      gone.dispose();
      expect(() => mp.squeezeExciteScales(gone, w1, null, w2, null)).toThrow(/squeezeExciteScales: 'means' was disposed/);
    });
  });

  it('squeezeExciteInPlace refuses what it cannot do, naming it', () => {
    mp.tidy(() => {
      const x = mp.randn([1, 4, 3, 3]);
      const w1 = mp.randn([2, 4]), w2 = mp.randn([4, 2]);
      const leaf = mp.randn([1, 4, 3, 3]).requiresGrad_();
      expect(() => mp.squeezeExciteInPlace(leaf, w1, null, w2, null)).toThrow(/squeezeExciteInPlace: writes in place and has no gradient/);
      mp.noGrad(() => mp.squeezeExciteInPlace(leaf, w1, null, w2, null)); // allowed with the tape off
      expect(() => mp.squeezeExciteInPlace(x, 'w1' as never, null, w2, null)).toThrow(/squeezeExciteInPlace: 'w1' must be a Tensor/);
      expect(() => mp.squeezeExciteInPlace(x, w1, null, mp.randn([4, 3]), null)).toThrow(/squeezeExcite: 'w2' must have shape \[4, 2\]/);
      const gone = mp.randn([1, 4, 3, 3]);
      gone.dispose();
      expect(() => mp.squeezeExciteInPlace(gone, w1, null, w2, null)).toThrow(/squeezeExciteInPlace: 'x' was disposed/);
    });
  });
});
