// Ops that know their result's shape hand it to fromHandle (lib/tensor.ts) instead of asking the
// native tensor: the shape a tensor reports must still be the native one, for every output and
// gradient of those ops (conv2d with strides, padding, dilation and parts; conv2dWithMeans;
// squeezeExcite; unary; binary; cat; the tape's sums and leaf copies).
import { describe, expect, it } from 'vitest';
import { native } from '../bindings/index.js';
import * as mp from '../lib/index.js';
import type { Tensor } from '../lib/index.js';

const g = new mp.Generator(7);
const leaf = (shape: number[], dtype: mp.DType = 'float32') => mp.randn(shape, { generator: g, dtype }).requiresGrad_();

function expectNative(ts: readonly (Tensor | null | undefined)[]): number {
  let n = 0;
  for (const t of ts) {
    if (!t) continue;
    const inf = native.info(t.handle);
    expect(t.shape).toEqual(inf.shape);
    expect(t.dtype).toBe(inf.dtype);
    expect(t.device).toBe(inf.device);
    n++;
  }
  return n;
}

describe('shapes the ops know agree with the native tensors', () => {
  it('conv2d forward and backward over strides, padding, dilation and parts', () => {
    const cases: [number[], number[], mp.ConvOptions][] = [
      [[2, 3, 11, 9], [5, 3, 3, 3], { padding: 1 }],
      [[1, 4, 12, 13], [6, 4, 3, 3], { stride: 2, padding: [1, 0] }],
      [[2, 2, 17, 15], [3, 2, 3, 3], { dilation: [3, 2], padding: [3, 2] }],
      [[1, 3, 9, 10], [4, 3, 1, 1], { stride: [2, 3] }],
      [[2, 3, 10, 8], [4, 3, 5, 3], { stride: [1, 2], padding: 2, activation: 'selu' }],
    ];
    for (const [xs, ws, o] of cases) {
      mp.tidy(() => {
        const x = leaf(xs, 'float64');
        const w = leaf(ws, 'float64');
        const b = leaf([ws[0]!], 'float64');
        const y = mp.conv2d(x, w, b, o);
        mp.sum(y).backward();
        expect(expectNative([y, x.grad, w.grad, b.grad])).toBe(4);
        for (const t of [x, w, b]) t.dispose();
      });
    }
    mp.tidy(() => {
      const parts = [leaf([2, 3, 8, 8]), leaf([2, 5, 8, 8])];
      const w = leaf([4, 8, 3, 3]);
      const { y, means } = mp.conv2dWithMeans(parts, w, null, { padding: 1 });
      mp.sum(y).backward();
      expect(expectNative([y, means, parts[0]!.grad, parts[1]!.grad, w.grad])).toBe(5);
      for (const t of [...parts, w]) t.dispose();
    });
  });

  it('squeezeExcite, unary, binary, cat and the tape sums', () => {
    mp.tidy(() => {
      const x = leaf([2, 6, 5, 4]);
      const [w1, b1, w2, b2] = [leaf([3, 6]), leaf([3]), leaf([6, 3]), leaf([6])];
      const s = mp.squeezeExcite(x, w1, b1, w2, b2);
      const u = mp.selu(s);
      const v = mp.mul(u, leaf([1, 6, 1, 1]));  // broadcast: gradient of the small side
      const c = mp.cat([v, mp.sigmoid(x)], 1);
      // x reaches the loss three ways, so the tape sums its gradients.
      mp.sum(mp.add(c, mp.cat([x, x], 1))).backward();
      expect(expectNative([s, u, v, c, x.grad, w1.grad, b1.grad, w2.grad, b2.grad])).toBe(9);
      for (const t of [x, w1, b1, w2, b2]) t.dispose();
    });
  });
});
