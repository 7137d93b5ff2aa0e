// 2-D average pooling (native/cpu/pool.cc) on MPF-Net-sized maps: 2x2 stride 2, and 3x3 stride 1
// padding 1; forward and backward.
import { native } from '../bindings/index.js';
import { randn, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'pool';

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const shape of [[1, 52, 48, 48], [8, 52, 48, 48], [8, 52, 128, 128]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    for (const [k, s, p] of [[2, 2, 0], [3, 1, 1]] as const) {
      const on = k === 2 ? n / 4 : n;
      for (const pass of ['forward', 'backward'] as const) {
        let x: Tensor, gy: Tensor;
        out.push({
          group,
          name: `avgPool2d k${k} s${s} p${p} ${pass} [${shape.join('x')}]`,
          params: { pass, shape, k, s, p },
          flops: k * k * on,
          bytes: 4 * (n + on),
          setup: () => {
            x = randn(shape);
            gy = randn([shape[0]!, shape[1]!, (shape[2]! + 2 * p - k) / s + 1, (shape[3]! + 2 * p - k) / s + 1].map(Math.floor));
          },
          fn: () => {
            if (pass === 'forward') native.dispose(native.avgPool2d('cpu', x.handle, [k, k], [s, s], [p, p]));
            else native.dispose(native.avgPool2dBackward('cpu', gy.handle, shape, [k, k], [s, s], [p, p]));
          },
          teardown: () => {
            x.dispose();
            gy.dispose();
          },
        });
      }
    }
  }
  return out;
}
