// 2-D max pooling (native/cpu/maxpool.cc) at the LPIPS backbones' sizes: AlexNet's 3×3 stride 2 and
// VGG's 2×2 stride 2, forward and backward.
import { native } from '../bindings/index.js';
import { randn, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'maxpool';

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const [shape, k] of [[[1, 64, 127, 127], 3], [[1, 64, 256, 256], 2], [[8, 52, 96, 96], 2]] as [number[], number][]) {
    const s = 2;
    const oh = Math.floor((shape[2]! - k) / s) + 1;
    const ow = Math.floor((shape[3]! - k) / s) + 1;
    const yShape = [shape[0]!, shape[1]!, oh, ow];
    const on = yShape.reduce((a, b) => a * b, 1);
    for (const pass of ['forward', 'backward'] as const) {
      let x: Tensor, gy: Tensor;
      out.push({
        group,
        name: `maxPool2d k${k} s${s} ${pass} [${shape.join('x')}]`,
        params: { pass, shape, k, s },
        flops: k * k * on,
        setup: () => {
          x = randn(shape);
          gy = randn(yShape);
        },
        fn: () => {
          if (pass === 'forward') native.dispose(native.maxPool2d('cpu', x.handle, [k, k], [s, s], [0, 0]));
          else native.dispose(native.maxPool2dBackward('cpu', x.handle, gy.handle, [k, k], [s, s], [0, 0]));
        },
        teardown: () => {
          x.dispose();
          gy.dispose();
        },
      });
    }
  }
  return out;
}
