import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../bindings/index.js';
import * as mp from '../lib/index.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';
import { checkAgainstTorch, loadFixture, type FixtureCase } from './helpers/fixtures.js';
import { simdLevels } from './helpers/simd-levels.js';

const LEVELS = simdLevels();

// Dims patterns over a rank-4 tensor: every element, the SE pooling (H, W), inner / outer /
// interleaved dims, negative dims, all dims listed.
const DIMS: (number[] | undefined)[] = [undefined, [1], [2, 3], [0, 2], [-1], [0], [1, 3], [0, 1, 2, 3], [0, 3]];

describe('reductions', () => {
  const simd0 = native.simd();
  afterEach(() => {
    native.setSimd(simd0);
  });

  for (const op of ['sum', 'mean'] as const) {
    const f = op === 'sum' ? mp.sum : mp.mean;
    for (const dims of DIMS) {
      for (const keepdim of [false, true]) {
        it(`${op} dims=${JSON.stringify(dims)} keepdim=${keepdim}: gradient matches finite differences`, () => {
          mp.tidy(() => gradcheck((x) => f(x, dims, keepdim), [randLeaf([2, 3, 5, 7], 1)]));
        });
      }
    }
    it(`${op}: shapes follow PyTorch (never 0-d)`, () => {
      mp.tidy(() => {
        const x = mp.randn([2, 3, 5, 7]);
        expect(f(x).shape).toEqual([1]);
        expect(f(x, undefined, true).shape).toEqual([1, 1, 1, 1]);
        expect(f(x, [2, 3]).shape).toEqual([2, 3]);
        expect(f(x, [2, 3], true).shape).toEqual([2, 3, 1, 1]);
        expect(f(x, -1).shape).toEqual([2, 3, 5]);
        expect(f(x, [0, 1, 2, 3]).shape).toEqual([1]);
      });
    });
    it(`${op}: float32 agrees with float64 at every SIMD level, incl. long sums`, () => {
      for (const level of LEVELS) {
        native.setSimd(level);
        mp.tidy(() => {
          for (const [shape, dims] of [
            [[8, 52, 48, 48], [2, 3]],
            [[8, 52, 48, 48], undefined],
            [[8, 52, 48, 48], [0]],
            [[8, 52, 48, 48], [0, 2, 3]],
            [[3, 5, 7, 9], [1, 3]],
          ] as [number[], number[] | undefined][]) {
            const x32 = mp.randn(shape, { generator: new mp.Generator(7), mean: 0.3 });
            const x64 = x32.astype('float64');
            // float32 sums of a few terms of size ~1 carry ~1e-7 absolute error: floor 1.
            expectClose(f(x32, dims).toFloat32Array(), f(x64, dims).toFloat64Array(), 2e-6, `${op} ${level} [${shape}] ${dims}`, 1);
          }
        });
      }
    });
    it(`${op}: results do not depend on the thread count`, () => {
      mp.tidy(() => {
        const x = mp.randn([8, 52, 48, 48], { generator: new mp.Generator(3) });
        const n0 = mp.getNumThreads();
        const a = f(x).toFloat32Array();
        const b = f(x, [0, 2, 3]).toFloat32Array();
        mp.setNumThreads(1);
        try {
          expect(f(x).toFloat32Array()).toEqual(a);
          expect(f(x, [0, 2, 3]).toFloat32Array()).toEqual(b);
        } finally {
          mp.setNumThreads(n0);
        }
      });
    });
  }

  for (const [shape, dim] of [[[3, 7, 5], 0], [[3, 7, 5], 1], [[3, 7, 5], -1], [[9], 0], [[2, 1, 4], 1]] as [number[], number][]) {
    for (const keepdim of [false, true]) {
      it(`logSumExp [${shape}] dim=${dim} keepdim=${keepdim}: gradient matches finite differences`, () => {
        mp.tidy(() => gradcheck((x) => mp.logSumExp(x, dim, keepdim), [randLeaf(shape, 2, { scale: 3 })]));
      });
    }
  }

  it('logSumExp is stable for large inputs and agrees in float32', () => {
    mp.tidy(() => {
      const x = mp.tensor([1000, 1000, -1000, 999], [1, 4], { dtype: 'float64' });
      expectClose(mp.logSumExp(x, 1).toFloat64Array(), [1000 + Math.log(2 + Math.exp(-1))], 1e-12, 'lse big');
      // float32 runs its exps through the vector kernel: every SIMD level, values and gradients.
      for (const level of LEVELS) {
        native.setSimd(level);
        const y32 = mp.randn([6, 40, 7], { std: 10 }).requiresGrad_();
        const y64 = y32.astype('float64').requiresGrad_();
        for (const d of [0, 1, 2]) {
          const a = mp.logSumExp(y32, d);
          const b = mp.logSumExp(y64, d);
          expectClose(a.toFloat32Array(), b.toFloat64Array(), 1e-6, `lse f32 ${level} dim ${d}`, 0.1);
          mp.sum(a).backward();
          mp.sum(b).backward();
          expectClose(y32.grad!.toFloat32Array(), y64.grad!.toFloat64Array(), 1e-5, `lse grad f32 ${level} dim ${d}`, 1e-3);
        }
      }
    });
  });

  it('sumToShape reduces to any broadcastable shape, with gradient', () => {
    for (const [from, to] of [[[2, 3, 5, 7], [3, 1, 1]], [[2, 3, 5, 7], [1, 3, 5, 7]], [[2, 3, 5, 7], [7]], [[2, 3, 5, 7], [2, 3, 5, 7]], [[4, 5], [1]]] as [number[], number[]][]) {
      mp.tidy(() => gradcheck((x) => mp.sumToShape(x, to), [randLeaf(from, 4)]));
    }
  });

  it('matches PyTorch (test/fixtures/reduce.json)', () => {
    for (const c of loadFixture<FixtureCase<{ op: 'sum' | 'mean' | 'logSumExp'; dim: number; dims?: number[] | null; keepdim: boolean }>>('reduce')) {
      const p = c.params;
      if (p.op === 'logSumExp') checkAgainstTorch(c, (x) => mp.logSumExp(x, p.dim, p.keepdim));
      else checkAgainstTorch(c, (x) => (p.op === 'sum' ? mp.sum : mp.mean)(x, p.dims ?? undefined, p.keepdim));
    }
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    mp.tidy(() => {
      const x = mp.randn([2, 3, 4]);
      expect(() => mp.sum(x, [3])).toThrow(RangeError);
      expect(() => mp.sum(x, [3])).toThrow(/sum: 'dims\[0\]' must be in \[-3, 2\], got 3/);
      expect(() => mp.mean(x, [1, -2])).toThrow(/mean: 'dims' names dim -2 twice/);
      expect(() => mp.mean(x, [])).toThrow(/mean: 'dims' must not be empty/);
      expect(() => mp.sum(x, [0.5])).toThrow(TypeError);
      expect(() => mp.logSumExp(x, 3)).toThrow(/logSumExp: 'dim' must be in \[-3, 2\]/);
      expect(() => mp.sumToShape(x, [5, 1])).toThrow(/sumToShape: 'shape' \[5, 1\] does not broadcast/);
      expect(() => mp.sum(null as never)).toThrow(/sum: 'x' must be a Tensor/);
      const d = mp.randn([2]);
      d.dispose();
      expect(() => mp.mean(d)).toThrow(/mean: 'x' was disposed/);
      expect(() => native.reduceForward('cpu', 'max' as never, x.handle, null, false)).toThrow(TypeError);
      expect(() => native.reduceBackward('cpu', 'sum', x.handle, [2, 3, 4], [1], false)).toThrow(/'gy' has shape \[2, 3, 4\] but the result's shape is \[2, 4\]/);
    });
  });
});
