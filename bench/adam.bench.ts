// The in-place Adam update (native/cpu/adam.cc): all of MPF-Net's 6.22 M parameters as one tensor,
// and one 3x3 conv weight (52x52x3x3).
import { native } from '../bindings/index.js';
import { randn, zeros, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'adam';

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const [label, shape] of [['MPF-Net 6.22M', [6_220_000]], ['conv 52x52x3x3', [52, 52, 3, 3]]] as const) {
    const n = shape.reduce((a, b) => a * b, 1);
    for (const decoupled of [false, true]) {
      let p: Tensor, g: Tensor, m: Tensor, v: Tensor;
      let step = 0;
      out.push({
        group,
        name: `${decoupled ? 'adamw' : 'adam'} ${label}`,
        params: { shape: [...shape], decoupled },
        flops: 0,
        bytes: 4 * 7 * n, // read param, grad, m, v; write param, m, v
        setup: () => {
          p = randn([...shape]);
          g = randn([...shape]);
          m = zeros([...shape]);
          v = zeros([...shape]);
        },
        fn: () => native.adamUpdate('cpu', p.handle, g.handle, m.handle, v.handle, 1e-4, 0.9, 0.999, 1e-8, decoupled ? 0.01 : 0, ++step, decoupled),
        teardown: () => [p, g, m, v].forEach((t) => t.dispose()),
      });
    }
  }
  return out;
}
