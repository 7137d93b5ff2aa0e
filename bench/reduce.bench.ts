// Reductions (native/cpu/reduce.cc) on MPF-Net-sized maps: the SE pooling mean over (H, W) and its
// backward, the full sum of a loss-like map, the per-channel sum over (N, H, W) (bias gradients),
// and logSumExp over channels.
import { native } from '../bindings/index.js';
import { randn, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'reduce';

const SHAPES = [[1, 52, 48, 48], [8, 52, 48, 48], [8, 52, 128, 128]];

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const shape of SHAPES) {
    const n = shape.reduce((a, b) => a * b, 1);
    const nc = shape[0]! * shape[1]!;
    const add = (name: string, params: BenchCase['params'], bytes: number, make: (x: Tensor) => () => void) => {
      let x: Tensor;
      let fn: () => void = () => {};
      out.push({
        group,
        name: `${name} [${shape.join('x')}]`,
        params: { ...params, shape },
        flops: 0,
        bytes,
        setup: () => {
          x = randn(shape);
          fn = make(x);
        },
        fn: () => fn(),
        teardown: () => x.dispose(),
      });
    };
    add('mean (H,W) forward', { op: 'mean', dims: [2, 3], pass: 'forward' }, 4 * (n + nc), (x) => () => native.dispose(native.reduceForward('cpu', 'mean', x.handle, [2, 3], true)));
    add('mean (H,W) backward', { op: 'mean', dims: [2, 3], pass: 'backward' }, 4 * (n + nc), (x) => {
      const gy = native.reduceForward('cpu', 'mean', x.handle, [2, 3], true);
      return () => native.dispose(native.reduceBackward('cpu', 'mean', gy, x.shape, [2, 3], true));
    });
    add('sum all forward', { op: 'sum', dims: 'all', pass: 'forward' }, 4 * n, (x) => () => native.dispose(native.reduceForward('cpu', 'sum', x.handle, null, false)));
    add('sum (N,H,W) forward', { op: 'sum', dims: [0, 2, 3], pass: 'forward' }, 4 * n, (x) => () => native.dispose(native.reduceForward('cpu', 'sum', x.handle, [0, 2, 3], false)));
    add('logSumExp dim 1 forward', { op: 'logSumExp', dim: 1, pass: 'forward' }, 4 * (n + n / shape[1]!), (x) => () => native.dispose(native.logSumExp('cpu', x.handle, 1, false)));
  }
  return out;
}
