import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { maxPool2d } from '../lib/ops/maxpool.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';

interface Case {
  shape: number[];
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  x: number[];
  y: number[];
  yShape: number[];
  gy: number[];
  gx: number[];
}
const golden = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'maxpool.json'), 'utf8')) as { cases: Case[] };

describe('maxPool2d', () => {
  for (const c of golden.cases) {
    const label = `k${c.kernel} s${c.stride} p${c.padding} on [${c.shape}]`;
    it(`${label}: matches PyTorch forward and backward (float64 and float32)`, () => {
      mp.tidy(() => {
        for (const dtype of ['float64', 'float32'] as const) {
          const x = mp.tensor(c.x, c.shape, { dtype, requiresGrad: true });
          const y = maxPool2d(x, c.kernel, c.stride, c.padding);
          expect(y.shape).toEqual(c.yShape);
          expectClose(y.toFloat64Array(), c.y, 1e-6, `${label} ${dtype} y`);
          y.backward(mp.tensor(c.gy, c.yShape, { dtype }));
          expectClose(x.grad!.toFloat64Array(), c.gx, 1e-5, `${label} ${dtype} gx`);
        }
      });
    });
  }

  it('gradient matches finite differences', () => {
    mp.tidy(() => gradcheck((x) => maxPool2d(x, 3, 2, 1), [randLeaf([1, 2, 7, 8], 4)]));
  });

  it('ties send the gradient to the first maximum; NaN propagates', () => {
    mp.tidy(() => {
      const x = mp.full([1, 1, 2, 2], 1, { dtype: 'float64', requiresGrad: true });
      maxPool2d(x, 2).backward(mp.ones([1, 1, 1, 1], { dtype: 'float64' }));
      expect(x.grad!.toArray()).toEqual([1, 0, 0, 0]);
      expect(Number.isNaN(maxPool2d(mp.tensor([1, NaN, 3, 2], [1, 1, 2, 2]), 2).item())).toBe(true);
    });
  });

  it('rejects bad geometry with errors naming the argument', () => {
    mp.tidy(() => {
      const x = mp.rand([1, 1, 4, 4]);
      expect(() => maxPool2d(x, 3, 1, 2)).toThrow(/'padding' 2 must be at most half of the kernel size 3/);
      expect(() => maxPool2d(x, 5)).toThrow(/larger than the padded input/);
      expect(() => maxPool2d(x, 0)).toThrow(RangeError);
      expect(() => maxPool2d(mp.rand([4, 4]), 2)).toThrow(/must be 4-D/);
      expect(() => maxPool2d(x, [2, 2, 2] as never)).toThrow(TypeError);
    });
  });
});
