// Elementwise unary kernels (native/cpu/unary.cc): forward and backward on MPF-Net-sized maps.
import { native } from '../bindings/index.js';
import { randn, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'unary';

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const shape of [[1, 52, 48, 48], [8, 52, 128, 128]]) {
    for (const op of ['selu', 'sigmoid', 'leakyRelu'] as const) {
      for (const pass of ['forward', 'backward'] as const) {
        let x: Tensor, y: Tensor, gy: Tensor;
        const n = shape.reduce((a, b) => a * b, 1);
        out.push({
          group,
          name: `${op} ${pass} [${shape.join('x')}]`,
          params: { op, pass, shape },
          flops: 0,
          bytes: n * 4 * (pass === 'forward' ? 2 : 4),
          setup: () => {
            x = randn(shape);
            y = randn(shape);
            gy = randn(shape);
          },
          fn: () => {
            const h = pass === 'forward'
              ? native.unaryForward('cpu', op, x.handle, 0.1, 0)
              : native.unaryBackward('cpu', op, x.handle, y.handle, gy.handle, 0.1, 0);
            native.dispose(h);
          },
          teardown: () => {
            x.dispose();
            y.dispose();
            gy.dispose();
          },
        });
      }
    }
  }
  return out;
}
