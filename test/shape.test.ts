import { describe, expect, it } from 'vitest';
import { native } from '../bindings/index.js';
import * as mp from '../lib/index.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';
import { checkAgainstTorch, loadFixture, type FixtureCase } from './helpers/fixtures.js';

describe('shape ops', () => {
  it('reshape is a view with -1 inference and a gradient', () => {
    mp.tidy(() => {
      const x = mp.randn([2, 3, 5]);
      const before = mp.memory().bytes;
      const y = mp.reshape(x, [5, -1]);
      expect(y.shape).toEqual([5, 6]);
      expect(mp.memory().bytes).toBe(before); // no new storage
      expect(y.toFloat32Array()).toEqual(x.toFloat32Array());
      expect(mp.reshape(x, [-1]).shape).toEqual([30]);
      gradcheck((t) => mp.mul(mp.reshape(t, [3, -1, 2]), 2), [randLeaf([2, 3, 5, 2], 1)]);
    });
  });

  it('flatten merges startDim..endDim', () => {
    mp.tidy(() => {
      const x = mp.randn([2, 3, 4, 5]);
      expect(mp.flatten(x).shape).toEqual([2, 60]);
      expect(mp.flatten(x, 0).shape).toEqual([120]);
      expect(mp.flatten(x, 1, 2).shape).toEqual([2, 12, 5]);
      expect(mp.flatten(x, -2).shape).toEqual([2, 3, 20]);
      gradcheck((t) => mp.flatten(t, 1), [randLeaf([2, 3, 1, 2], 2)]);
    });
  });

  for (const dim of [0, 1, 2, 3, -1]) {
    it(`cat along dim ${dim}: gradient matches finite differences`, () => {
      mp.tidy(() => {
        const shapes = [1, 3, 2].map((n) => {
          const s = [2, 3, 3, 5];
          s[dim < 0 ? dim + 4 : dim] = n;
          return s;
        });
        gradcheck((a, b, c) => mp.cat([a, b, c], dim), shapes.map((s, i) => randLeaf(s, 10 + i)));
      });
    });
  }

  it('cat of one tensor and of tensors that do not need gradients', () => {
    mp.tidy(() => {
      gradcheck((a) => mp.cat([a]), [randLeaf([2, 3], 3)]);
      const c = mp.randn([2, 4], { dtype: 'float64' });
      gradcheck((a) => mp.cat([c, a, c], 1), [randLeaf([2, 1], 4)]);
    });
  });

  for (const [sizes, dim] of [[3, 1], [[2, 4, 1], 1], [2, 3], [[1, 1], 0], [1, -1], [10, 1]] as [number | number[], number][]) {
    it(`split ${JSON.stringify(sizes)} along dim ${dim}: pieces and their gradients`, () => {
      mp.tidy(() => {
        const x = randLeaf([2, 7, 3, 3], 5);
        const pieces = mp.split(x, sizes, dim);
        const d = dim < 0 ? dim + 4 : dim;
        const expected = typeof sizes === 'number' ? Array.from({ length: Math.ceil(x.shape[d]! / sizes) }, (_, i) => Math.min(sizes, x.shape[d]! - i * sizes)) : sizes;
        expect(pieces.map((p) => p.shape[d])).toEqual(expected);
        // Every piece carries a gradient; a loss that uses some pieces twice and skips one.
        gradcheck((t) => {
          const ps = mp.split(t, sizes, dim);
          const used = ps.length > 1 ? ps.slice(1) : ps;
          return mp.cat(used.map((p, i) => mp.mul(p, i + 1)), dim);
        }, [x]);
      });
    });
  }

  for (const r of [1, 2, 3]) {
    it(`pixelShuffle / pixelUnshuffle r=${r}: inverse of each other, gradients`, () => {
      mp.tidy(() => {
        const x = randLeaf([2, 2 * r * r, 3, 5], 6);
        const y = mp.pixelShuffle(x, r);
        expect(y.shape).toEqual([2, 2, 3 * r, 5 * r]);
        expect(mp.pixelUnshuffle(y, r).toFloat64Array()).toEqual(x.toFloat64Array());
        gradcheck((t) => mp.pixelShuffle(t, r), [x]);
        gradcheck((t) => mp.pixelUnshuffle(t, r), [randLeaf([1, 3, 2 * r, 3 * r], 7)]);
      });
    });
  }

  it('pixelShuffleInto writes pixelShuffle(x) into a channel range of out, in place', () => {
    mp.tidy(() => {
      for (const dtype of ['float32', 'float64'] as const) {
        // batch 2, 3 output channels per piece, placed at channel 2 of 7: the rest of out stays as it was
        const x = mp.randn([2, 3 * 9, 4, 5], { dtype });
        const out = mp.randn([2, 7, 12, 15], { dtype });
        const before = out.toFloat64Array();
        mp.pixelShuffleInto(x, 3, out, 2);
        const want = mp.pixelShuffle(x, 3).toFloat64Array();
        const got = out.toFloat64Array();
        const plane = 12 * 15;
        for (let n = 0; n < 2; n++)
          for (let c = 0; c < 7; c++)
            for (let p = 0; p < plane; p++) {
              const i = (n * 7 + c) * plane + p;
              const expected = c >= 2 && c < 5 ? want[(n * 3 + c - 2) * plane + p]! : before[i]!;
              if (got[i] !== expected) throw new Error(`${dtype}: out[${n},${c}] element ${p}: ${got[i]} != ${expected}`);
            }
      }
    });
  });

  it('pixelShuffleInto: clear errors for bad offsets, shapes and recorded inputs', () => {
    mp.tidy(() => {
      const x = mp.randn([1, 8, 3, 3]);
      const out = mp.zeros([1, 4, 6, 6]);
      expect(() => mp.pixelShuffleInto(x, 2, out, 3)).toThrow(RangeError);
      expect(() => mp.pixelShuffleInto(x, 2, out, -1)).toThrow(RangeError);
      expect(() => mp.pixelShuffleInto(x, 2, out, 0.5)).toThrow(TypeError);
      expect(() => mp.pixelShuffleInto(x, 2, mp.zeros([1, 4, 6, 7]), 0)).toThrow(/out has shape/);
      expect(() => mp.pixelShuffleInto(x, 3, out, 0)).toThrow(/not divisible/);
      expect(() => mp.pixelShuffleInto(x.astype('float64'), 2, out, 0)).toThrow();
      const leaf = mp.randn([1, 8, 3, 3], { requiresGrad: true });
      expect(() => mp.pixelShuffleInto(leaf, 2, out, 0)).toThrow(/noGrad/);
      mp.noGrad(() => mp.pixelShuffleInto(leaf, 2, out, 2));
    });
  });

  it('float32 agrees with float64 (MPF-Net sizes)', () => {
    mp.tidy(() => {
      const x32 = mp.randn([2, 52 * 4, 12, 12]);
      const x64 = x32.astype('float64');
      expectClose(mp.pixelShuffle(x32, 2).toFloat32Array(), mp.pixelShuffle(x64, 2).toFloat64Array(), 0, 'shuffle');
      const parts32 = mp.split(x32, [52, 100, 56], 1);
      const parts64 = mp.split(x64, [52, 100, 56], 1);
      expectClose(mp.cat(parts32.reverse(), 1).toFloat32Array(), mp.cat(parts64.reverse(), 1).toFloat64Array(), 0, 'cat');
    });
  });

  it('matches PyTorch (test/fixtures/shape.json)', () => {
    for (const c of loadFixture<FixtureCase<{ op: 'cat' | 'split' | 'pixelShuffle' | 'pixelUnshuffle'; dim: number; sizes: number | number[]; r: number }>>('shape')) {
      const p = c.params;
      if (p.op === 'cat') checkAgainstTorch(c, (...xs) => mp.cat(xs, p.dim));
      else if (p.op === 'split') checkAgainstTorch(c, (x) => mp.split(x, p.sizes, p.dim));
      else if (p.op === 'pixelShuffle') checkAgainstTorch(c, (x) => mp.pixelShuffle(x, p.r));
      else checkAgainstTorch(c, (x) => mp.pixelUnshuffle(x, p.r));
    }
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    mp.tidy(() => {
      const x = mp.randn([2, 6, 4, 4]);
      expect(() => mp.reshape(x, [5, -1])).toThrow(RangeError);
      expect(() => mp.reshape(x, [5, -1])).toThrow(/reshape: cannot reshape x of shape \[2, 6, 4, 4\]/);
      expect(() => mp.reshape(x, [-1, -1])).toThrow(/more than one -1/);
      expect(() => mp.reshape(x, [0, 192])).toThrow(/'shape\[0\]' is 0/);
      expect(() => mp.reshape(x, [1.5] as never)).toThrow(TypeError);
      expect(() => mp.flatten(x, 4)).toThrow(/flatten: 'startDim' 4 is out of range/);
      expect(() => mp.flatten(x, 2, 1)).toThrow(/comes after 'endDim'/);
      expect(() => mp.cat([])).toThrow(/cat: 'xs' must not be empty/);
      expect(() => mp.cat([x, mp.randn([2, 6, 4, 5])])).toThrow(/cat: 'xs\[1\]' has shape \[2, 6, 4, 5\]/);
      expect(() => mp.cat([x, mp.randn([2, 6, 4])])).toThrow(RangeError);
      expect(() => mp.cat([x, mp.randn([2, 6, 4, 4], { dtype: 'float64' })])).toThrow(/cat: 'xs\[1\]' is float64/);
      expect(() => mp.cat([x, 3 as never])).toThrow(/cat: 'xs\[1\]' must be a Tensor/);
      expect(() => mp.cat([x], 4)).toThrow(/cat: 'dim' 4 is out of range/);
      expect(() => mp.split(x, [2, 3], 1)).toThrow(/split: 'sizes' \[2, 3\] add up to 5 but x has 6 along dim 1/);
      expect(() => mp.split(x, [2, 0, 4], 1)).toThrow(RangeError);
      expect(() => mp.split(x, 0, 1)).toThrow(/split: 'sizeOrSizes' must be >= 1/);
      expect(() => mp.split(x, 2, -5)).toThrow(/split: 'dim' -5 is out of range/);
      expect(() => mp.pixelShuffle(x, 2)).toThrow(/pixelShuffle: x has 6 channels .* not divisible by r\*r = 4/);
      expect(() => mp.pixelShuffle(mp.randn([4, 4, 4]), 2)).toThrow(/pixelShuffle: 'x' must be 4-D/);
      expect(() => mp.pixelShuffle(x, 0)).toThrow(/pixelShuffle: 'r' must be in \[1, 65536\]/);
      expect(() => mp.pixelUnshuffle(mp.randn([1, 1, 5, 4]), 2)).toThrow(/must be divisible by r = 2/);
      const d = mp.randn([2, 2]);
      d.dispose();
      expect(() => mp.cat([x, d])).toThrow(/cat: 'xs\[1\]' was disposed/);
      expect(() => mp.split(d, 1)).toThrow(TypeError);
      expect(() => native.splitBackward('cpu', x.handle, [2, 6, 4, 4], 1, 3)).toThrow(/does not fit/);
    });
  });
});
