// The L1 loss (native/cpu/loss.cc): MPF-Net's x4 training batch (8 HR crops of 192x192) and a
// feature-map-sized input; forward and backward (gradient of pred).
import { native } from '../bindings/index.js';
import { randn, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'loss';

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const shape of [[8, 3, 192, 192], [8, 52, 128, 128]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    for (const pass of ['forward', 'backward'] as const) {
      let p: Tensor, t: Tensor, gy: Tensor;
      out.push({
        group,
        name: `l1Loss ${pass} [${shape.join('x')}]`,
        params: { pass, shape },
        flops: 0,
        bytes: 4 * (pass === 'forward' ? 2 * n : 3 * n),
        setup: () => {
          p = randn(shape);
          t = randn(shape);
          gy = randn([1]);
        },
        fn: () => {
          if (pass === 'forward') native.dispose(native.l1Loss('cpu', p.handle, t.handle, 'mean'));
          else native.dispose(native.l1LossBackward('cpu', p.handle, t.handle, gy.handle, 'mean', true, false)[0]!);
        },
        teardown: () => {
          p.dispose();
          t.dispose();
          gy.dispose();
        },
      });
    }
  }
  return out;
}
