// conv2dWithMeans: conv2d plus the mean of each output plane, the pooling of the squeeze-excitation
// that follows the second convolution of every MPF-Net block (the Winograd driver sums each block
// of output while it is in cache; other algorithms add a pass). Checked against mean(y) for every
// algorithm, dtype and SIMD level, with batches whose Winograd blocks span several images, and
// squeezeExcite's `means` against its own pooling, forward and backward.
import { describe, expect, it } from 'vitest';
import { native } from '../bindings/index.js';
import * as mp from '../lib/index.js';
import { conv2dWithMeans } from '../lib/ops/conv.js';
import { expectClose } from './helpers/gradcheck.js';
import { simdLevels } from './helpers/simd-levels.js';

/** Seeded normal values of a dtype (never zeros). */
function rnd(shape: number[], seed: number, dtype: mp.DType, requiresGrad = false): mp.Tensor {
  const t = mp.randn(shape, { dtype, generator: new mp.Generator(seed) });
  t.requiresGrad = requiresGrad;
  return t;
}

const ALGOS: mp.ConvAlgorithm[] = ['auto', 'winograd2', 'winograd', 'winograd6', 'winograd8', 'lattice', 'gemm', 'direct'];

// [name, part channels, out, batch, h, w, options]: 5x7 images are 2x2 tiles of F(4x4), so one
// 32-tile Winograd block covers eight images and a batch of 11 ends mid-block.
const CASES: [string, number[], number, number, number, number, mp.ConvOptions][] = [
  ['3x3 pad 1, 2 parts, 20x17', [4, 3], 6, 2, 20, 17, { padding: 1 }],
  ['3x3 pad 1, batch 11 of 5x7 (blocks span images)', [5], 7, 11, 5, 7, { padding: 1 }],
  ['3x3 pad 1 + selu, 37x29', [6], 5, 1, 37, 29, { padding: 1, activation: 'selu' }],
  ['3x3 dilation 2 (not Winograd; sub-lattices when forced)', [3], 4, 2, 15, 13, { padding: 2, dilation: 2 }],
  ['1x1, stride 2', [5], 3, 3, 9, 11, { stride: 2 }],
];

function meanOf(y: mp.Tensor): Float64Array {
  const [n, c, h, w] = y.shape as [number, number, number, number];
  const v = y.toFloat64Array();
  const out = new Float64Array(n * c);
  for (let p = 0; p < n * c; p++) {
    let s = 0;
    for (let i = 0; i < h * w; i++) s += v[p * h * w + i]!;
    out[p] = s / (h * w);
  }
  return out;
}

describe('conv2dWithMeans', () => {
  for (const dtype of ['float32', 'float64'] as const)
    for (const [name, parts, out, n, h, w, o] of CASES)
      it(`${dtype}: y equals conv2d and means equal y's plane means, every algorithm and SIMD level: ${name}`, () => {
        const xs = parts.map((c, i) => rnd([n, c, h, w], 10 + i, dtype));
        const k = o.stride === 2 ? 1 : 3;
        const weight = rnd([out, parts.reduce((a, b) => a + b, 0), k, k], 20, dtype);
        const bias = rnd([out], 21, dtype);
        const before = mp.setConvAlgorithm('auto');
        const simdBefore = native.simd();
        try {
          for (const algo of ALGOS) {
            mp.setConvAlgorithm(algo);
            for (const level of simdLevels()) {
              native.setSimd(level);
              const plain = mp.noGrad(() => mp.conv2d(xs, weight, bias, o));
              const { y, means } = mp.noGrad(() => conv2dWithMeans(xs, weight, bias, o));
              expect(means.shape).toEqual([n, out]);
              expect(means.dtype).toBe(dtype);
              // The same kernels write y: identical, element for element.
              expect(Array.from(y.toFloat64Array())).toEqual(Array.from(plain.toFloat64Array()));
              // Each tile's m x m values summed in the dtype, then tiles in double: float rounding of the mean.
              expectClose(means.toFloat64Array(), meanOf(y), dtype === 'float32' ? 1e-5 : 1e-12, `${algo} ${level} ${name}`);
              for (const t of [plain, y, means]) t.dispose();
            }
          }
        } finally {
          mp.setConvAlgorithm(before);
          native.setSimd(simdBefore);
          for (const t of [...xs, weight, bias]) t.dispose();
        }
      });

  it('records y on the tape like conv2d (same gradients); means has no gradient', () => {
    const x = rnd([2, 4, 9, 8], 1, 'float64', true);
    const weight = rnd([5, 4, 3, 3], 2, 'float64', true);
    const grads = (withMeans: boolean) =>
      mp.tidy(() => {
        const y = withMeans ? conv2dWithMeans(x, weight, null, { padding: 1 }).y : mp.conv2d(x, weight, null, { padding: 1 });
        mp.sum(mp.mul(y, y)).backward();
        const g = [x.grad!.toFloat64Array(), weight.grad!.toFloat64Array()];
        x.grad!.dispose();
        weight.grad!.dispose();
        x.grad = weight.grad = null;
        return g;
      });
    const [gx0, gw0] = grads(false);
    const [gx1, gw1] = grads(true);
    expect(Array.from(gx1!)).toEqual(Array.from(gx0!));
    expect(Array.from(gw1!)).toEqual(Array.from(gw0!));
    const { y, means } = conv2dWithMeans(x, weight, null, { padding: 1 });
    expect(y.requiresGrad).toBe(true);
    expect(means.requiresGrad).toBe(false);
    for (const t of [y, means, x, weight]) t.dispose();
  });
});

describe("squeezeExcite with the convolution's means", () => {
  for (const dtype of ['float32', 'float64'] as const)
    it(`${dtype}: output and every gradient equal squeezeExcite pooling x itself`, () => {
      const x = rnd([2, 6, 7, 9], 3, dtype, true);
      const w1 = rnd([4, 6], 4, dtype, true), b1 = rnd([4], 5, dtype, true);
      const w2 = rnd([6, 4], 6, dtype, true), b2 = rnd([6], 7, dtype, true);
      const params = [x, w1, b1, w2, b2];
      const run = (given: boolean) =>
        mp.tidy(() => {
          const means = given ? mp.noGrad(() => mp.mean(x, [2, 3])) : null;
          const y = mp.squeezeExcite(x, w1, b1, w2, b2, means);
          const out = y.toFloat64Array();
          mp.sum(mp.mul(y, y)).backward();
          const gs = params.map((p) => {
            const g = p.grad!.toFloat64Array();
            p.grad!.dispose();
            p.grad = null;
            return g;
          });
          return [out, ...gs];
        });
      const a = run(false), b = run(true);
      // mean() and the op's own pooling sum in different orders: the means differ in their last
      // float32 bits, which the gradients of x (small, from sums that cancel) amplify to ~6e-5.
      const tol = dtype === 'float32' ? 2e-4 : 1e-12;
      a.forEach((v, i) => expectClose(b[i]!, v, tol, i === 0 ? 'y' : `gradient ${i - 1}`));
      for (const t of params) t.dispose();
    });

  it('rejects means of the wrong shape, dtype or a disposed tensor, naming the argument', () => {
    const x = mp.rand([2, 6, 5, 5]);
    const w1 = mp.rand([4, 6]), w2 = mp.rand([6, 4]);
    const wrong = mp.rand([2, 5]);
    const f64 = mp.rand([2, 6], { dtype: 'float64' });
    const gone = mp.rand([2, 6]);
    gone.dispose();
    try {
      expect(() => mp.squeezeExcite(x, w1, null, w2, null, wrong)).toThrow(RangeError);
      expect(() => mp.squeezeExcite(x, w1, null, w2, null, wrong)).toThrow(/'means' must have shape \[2, 6\], got \[2, 5\]/);
      expect(() => mp.squeezeExcite(x, w1, null, w2, null, f64)).toThrow(/'means'/);
      expect(() => mp.squeezeExcite(x, w1, null, w2, null, gone)).toThrow(/means/);
    } finally {
      for (const t of [x, w1, w2, wrong, f64]) t.dispose();
    }
  });
});
