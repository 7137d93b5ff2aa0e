// MATLAB-compatible imresize (native/cpu/resize.cc): the bicubic ×4 of LR patches (bicubic
// negatives in training), making LR images from 2K HR (×1/4, antialiased) and upscaling a whole
// image; forward, and backward for the training-time case. The PyTorch peer is
// F.interpolate(mode='bicubic', antialias=True), the closest built-in (a = -0.75 there, same cost).
import { imresize, imresizePlan } from '../lib/ops/resize.js';
import { rand, tidy, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'resize';

/** Multiply-adds ×2 of the two passes: taps = 4 when enlarging, 4 / s when shrinking. */
function flops(shape: number[], scale: number): number {
  const [n, c, h, w] = shape as [number, number, number, number];
  const { size } = imresizePlan(h, w, { scale });
  const taps = scale < 1 ? 4 / scale : 4;
  return 2 * n * c * taps * (size[0] * w + size[0] * size[1]);
}

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  const specs: [number[], number, 'forward' | 'backward'][] = [
    [[16, 3, 48, 48], 4, 'forward'],
    [[16, 3, 48, 48], 4, 'backward'],
    [[1, 3, 1356, 2040], 0.25, 'forward'],
    [[1, 3, 339, 510], 4, 'forward'],
  ];
  for (const [shape, scale, pass] of specs) {
    let x: Tensor;
    out.push({
      group,
      name: `imresize ×${scale} ${pass} [${shape.join('x')}]`,
      params: { shape, scale, pass },
      flops: flops(shape, scale) * (pass === 'backward' ? 2 : 1),
      setup: () => {
        x = rand(shape);
        x.requiresGrad = pass === 'backward';
      },
      fn: () => {
        tidy(() => {
          const y = imresize(x, { scale });
          if (pass === 'backward') {
            y.backward(y);
            x.grad?.dispose();
            x.grad = null;
          }
        });
      },
      teardown: () => x.dispose(),
    });
  }
  return out;
}
