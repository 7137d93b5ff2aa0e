// Elementwise binary kernels with broadcasting (native/cpu/binary.cc) on MPF-Net-sized maps: the
// residual add (same shape), the SE channel scaling x * s (N,C,1,1), a bias-like add (1,C,1,1) and
// a batch broadcast (1,C,H,W); forward, and backward for both inputs.
import { native } from '../bindings/index.js';
import type { BinaryOpName } from '../bindings/native.js';
import { randn, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'binary';

export const SHAPES = [[1, 52, 48, 48], [8, 52, 48, 48], [8, 52, 128, 128]];

const PATTERNS: { name: string; op: BinaryOpName; b: (s: number[]) => number[] }[] = [
  { name: 'add same', op: 'add', b: (s) => s },
  { name: 'mul SE (N,C,1,1)', op: 'mul', b: ([n, c]) => [n!, c!, 1, 1] },
  { name: 'add bias (1,C,1,1)', op: 'add', b: ([, c]) => [1, c!, 1, 1] },
  { name: 'mul batch (1,C,H,W)', op: 'mul', b: ([, c, h, w]) => [1, c!, h!, w!] },
];

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const shape of SHAPES) {
    const n = shape.reduce((a, b) => a * b, 1);
    for (const p of PATTERNS) {
      const bShape = p.b(shape);
      const nb = bShape.reduce((a, b) => a * b, 1);
      for (const pass of ['forward', 'backward'] as const) {
        let a: Tensor, b: Tensor, gy: Tensor;
        // forward: read a and b, write y; backward: read gy, a and b (where the formula needs
        // them), write ga and gb.
        const reads = pass === 'forward' ? n + nb : p.op === 'add' ? n : 2 * n + nb;
        const writes = pass === 'forward' ? n : n + nb;
        out.push({
          group,
          name: `${p.name} ${pass} [${shape.join('x')}]`,
          params: { op: p.op, pass, a: shape, b: bShape },
          flops: 0,
          bytes: 4 * (reads + writes),
          setup: () => {
            a = randn(shape);
            b = randn(bShape);
            gy = randn(shape);
          },
          fn: () => {
            if (pass === 'forward') native.dispose(native.binaryForward('cpu', p.op, a.handle, b.handle));
            else for (const h of native.binaryBackward('cpu', p.op, a.handle, b.handle, gy.handle, true, true)) native.dispose(h!);
          },
          teardown: () => {
            a.dispose();
            b.dispose();
            gy.dispose();
          },
        });
      }
    }
  }
  return out;
}
