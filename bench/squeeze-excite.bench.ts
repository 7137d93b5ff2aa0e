// Squeeze-excitation on MPF-Net-sized maps (52 channels, hidden 4): the fused op
// (native/cpu/squeeze_excite.cc) against the composite path it replaced (mean, linear, relu,
// linear, sigmoid, mul), forward alone and forward + backward. The peer is PyTorch's composite.
import { SqueezeExcite, Generator, mul, randn, sum, tidy, noGrad, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'squeeze-excite';

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const shape of [[1, 52, 48, 48], [8, 52, 48, 48]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    for (const path of ['fused', 'composite'] as const) {
      for (const pass of ['forward', 'train'] as const) {
        let se: SqueezeExcite, x: Tensor, w: Tensor;
        const forward = (t: Tensor) => (path === 'fused' ? se.forward(t) : se.forwardComposite(t));
        out.push({
          group,
          name: `SE ${path} ${pass} [${shape.join('x')}]`,
          params: { pass, path, shape, hidden: 4, noGrad: pass === 'forward' },
          flops: pass === 'forward' ? 2 * n : 6 * n,
          bytes: 4 * (pass === 'forward' ? 2 * n : 5 * n),
          setup: () => {
            se = new SqueezeExcite(shape[1]!, { generator: new Generator(1) });
            x = randn(shape);
            w = randn(shape);
            if (pass === 'train') x.requiresGrad = true;
          },
          fn: () => {
            if (pass === 'forward') noGrad(() => tidy(() => void forward(x)));
            else
              tidy(() => {
                sum(mul(forward(x), w)).backward();
                x.grad?.dispose();
                x.grad = null;
                se.zeroGrad();
              });
          },
          teardown: () => {
            se.dispose();
            x.dispose();
            w.dispose();
          },
        });
      }
    }
  }
  return out;
}
