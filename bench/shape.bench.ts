// Shape kernels (native/cpu/shape.cc) on MPF-Net-sized maps: cat of two C = 52 maps along channels
// (a Block's input), its backward split, and the x2 upsampler's pixel shuffle (4C -> C) and its
// backward (pixel unshuffle).
import { native } from '../bindings/index.js';
import { randn, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'shape';

const SHAPES = [[1, 52, 48, 48], [8, 52, 48, 48], [8, 52, 128, 128]];

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const shape of SHAPES) {
    const [n, c, h, w] = shape as [number, number, number, number];
    const numel = n * c * h * w;
    const add = (name: string, params: BenchCase['params'], bytes: number, shapes: number[][], make: (xs: Tensor[]) => () => void) => {
      let xs: Tensor[] = [];
      let fn: () => void = () => {};
      out.push({
        group,
        name: `${name} [${shape.join('x')}]`,
        params: { ...params, shape },
        flops: 0,
        bytes,
        setup: () => {
          xs = shapes.map((s) => randn(s));
          fn = make(xs);
        },
        fn: () => fn(),
        teardown: () => xs.forEach((x) => x.dispose()),
      });
    };
    add('cat 2 along C', { op: 'cat' }, 4 * 4 * numel, [shape, shape], (xs) => () => native.dispose(native.cat('cpu', xs.map((x) => x.handle), 1)));
    add('split 2 along C', { op: 'split' }, 4 * 4 * numel, [[n, 2 * c, h, w]], (xs) => () => native.split('cpu', xs[0]!.handle, [c, c], 1).forEach((hd) => native.dispose(hd)));
    add('pixelShuffle r=2', { op: 'pixelShuffle' }, 4 * 8 * numel, [[n, 4 * c, h, w]], (xs) => () => native.dispose(native.pixelShuffle('cpu', xs[0]!.handle, 2)));
    add('pixelShuffle r=2 backward', { op: 'pixelUnshuffle' }, 4 * 8 * numel, [[n, c, 2 * h, 2 * w]], (xs) => () => native.dispose(native.pixelUnshuffle('cpu', xs[0]!.handle, 2)));
  }
  return out;
}
