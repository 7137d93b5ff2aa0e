// matmul and linear (native/cpu/matmul.cc over the SGEMM driver, native/cpu/gemm*.cc): square
// products, a tall-skinny product like a 1x1 conv's, and the squeeze-excitation fc layers of
// MPF-Net (tiny: they measure call overhead, not arithmetic). Forward and backward.
import { native } from '../bindings/index.js';
import { randn, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'matmul';

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  const shapes: [string, number, number, number][] = [
    ['square 256', 256, 256, 256],
    ['square 1024', 1024, 1024, 1024],
    ['tall 9216x260 . 260x52', 9216, 260, 52],
    ['se fc1 8x52 . 52x4', 8, 52, 4],
  ];
  for (const [label, m, k, n] of shapes) {
    for (const pass of ['forward', 'backward'] as const) {
      let a: Tensor, b: Tensor, gc: Tensor;
      out.push({
        group,
        name: `matmul ${label} ${pass}`,
        params: { op: 'matmul', pass, m, k, n },
        flops: 2 * m * k * n * (pass === 'forward' ? 1 : 2),
        setup: () => {
          a = randn([m, k]);
          b = randn([k, n]);
          gc = randn([m, n]);
        },
        fn: () => {
          if (pass === 'forward') native.dispose(native.matmulForward('cpu', a.handle, b.handle));
          else {
            const r = native.matmulBackward('cpu', a.handle, b.handle, gc.handle, true, true);
            native.dispose(r.ga!);
            native.dispose(r.gb!);
          }
        },
        teardown: () => {
          for (const t of [a, b, gc]) t.dispose();
        },
      });
    }
  }
  for (const [label, rows, inF, outF] of [['linear 1024x1024 -> 1024', 1024, 1024, 1024], ['se fc2 8x4 -> 52', 8, 4, 52]] as const) {
    for (const pass of ['forward', 'backward'] as const) {
      let x: Tensor, w: Tensor, bias: Tensor, gy: Tensor;
      out.push({
        group,
        name: `${label} ${pass}`,
        params: { op: 'linear', pass, rows, in: inF, out: outF },
        flops: 2 * rows * inF * outF * (pass === 'forward' ? 1 : 2),
        setup: () => {
          x = randn([rows, inF]);
          w = randn([outF, inF]);
          bias = randn([outF]);
          gy = randn([rows, outF]);
        },
        fn: () => {
          if (pass === 'forward') native.dispose(native.linearForward('cpu', x.handle, w.handle, bias.handle));
          else {
            const r = native.linearBackward('cpu', x.handle, w.handle, gy.handle, true, true, true);
            for (const h of [r.gx, r.gw, r.gb]) if (h !== null) native.dispose(h);
          }
        },
        teardown: () => {
          for (const t of [x, w, bias, gy]) t.dispose();
        },
      });
    }
  }
  return out;
}
