import { describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';
import { checkAgainstTorch, loadFixture, type FixtureCase } from './helpers/fixtures.js';

type P = number | [number, number];
const CASES: [number[], P, P | null, P][] = [
  [[2, 3, 6, 8], 2, null, 0],
  [[2, 3, 7, 9], 3, 1, 1],
  [[1, 2, 7, 9], 3, 2, 1],
  [[2, 2, 7, 9], [2, 3], [1, 2], [1, 0]],
  [[1, 3, 5, 5], 5, 5, 2],
  [[1, 1, 9, 8], [4, 2], [3, 3], [2, 1]],
  [[1, 1, 1, 1], 1, null, 0],
];

describe('avgPool2d', () => {
  for (const [shape, k, s, p] of CASES) {
    it(`[${shape}] kernel ${k} stride ${s} padding ${p}: gradient matches finite differences`, () => {
      mp.tidy(() => gradcheck((x) => mp.avgPool2d(x, k, s, p), [randLeaf(shape, 1)]));
    });
  }

  it('output shapes follow PyTorch (floor mode, padding counted)', () => {
    mp.tidy(() => {
      expect(mp.avgPool2d(mp.randn([1, 1, 7, 9]), 2).shape).toEqual([1, 1, 3, 4]);
      expect(mp.avgPool2d(mp.randn([1, 1, 7, 9]), 3, 2, 1).shape).toEqual([1, 1, 4, 5]);
      const ones = mp.ones([1, 1, 3, 3]);
      // count_include_pad: the corner window covers 4 ones out of 9 cells.
      expect(mp.avgPool2d(ones, 3, 1, 1).toFloat32Array()[0]).toBeCloseTo(4 / 9, 6);
    });
  });

  it('float32 agrees with float64 (MPF-Net sizes)', () => {
    mp.tidy(() => {
      const x32 = mp.randn([2, 52, 48, 48]);
      const x64 = x32.astype('float64');
      for (const [k, s, p] of [[2, 2, 0], [3, 1, 1]] as const)
        expectClose(mp.avgPool2d(x32, k, s, p).toFloat32Array(), mp.avgPool2d(x64, k, s, p).toFloat64Array(), 1e-6, `pool ${k}`, 0.1);
    });
  });

  it('matches PyTorch (test/fixtures/pool.json)', () => {
    for (const c of loadFixture<FixtureCase<{ kernel: mp.PoolSize; stride: mp.PoolSize | null; padding: mp.PoolSize }>>('pool')) checkAgainstTorch(c, (x) => mp.avgPool2d(x, c.params.kernel, c.params.stride, c.params.padding));
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    mp.tidy(() => {
      const x = mp.randn([1, 2, 5, 5]);
      expect(() => mp.avgPool2d(mp.randn([2, 5, 5]), 2)).toThrow(/avgPool2d: 'x' must be 4-D/);
      expect(() => mp.avgPool2d(x, 0)).toThrow(/avgPool2d: 'kernel\[0\]' must be in/);
      expect(() => mp.avgPool2d(x, 2, 0)).toThrow(/avgPool2d: 'stride\[0\]' must be in/);
      expect(() => mp.avgPool2d(x, 2, 1, -1)).toThrow(RangeError);
      expect(() => mp.avgPool2d(x, 2, 1, 2)).toThrow(/avgPool2d: 'padding' 2 must be at most half of the kernel size 2/);
      expect(() => mp.avgPool2d(x, 6)).toThrow(/avgPool2d: 'kernel' \[6, 6\] is larger than the padded input/);
      expect(() => mp.avgPool2d(x, [2, 2, 2] as never)).toThrow(TypeError);
      expect(() => mp.avgPool2d(x, 1.5)).toThrow(TypeError);
      const d = mp.randn([1, 1, 2, 2]);
      d.dispose();
      expect(() => mp.avgPool2d(d, 2)).toThrow(/avgPool2d: 'x' was disposed/);
    });
  });
});
