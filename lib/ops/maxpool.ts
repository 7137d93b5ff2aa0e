// 2-D max pooling (PyTorch's max_pool2d, no dilation, floor mode), an autograd function.
// Kernels: native/cpu/maxpool.cc. Used by the LPIPS backbones (AlexNet, VGG).
import { native } from '../../bindings/index.js';
import { record } from '../autograd/tape.js';
import { fromHandle, type Tensor } from '../tensor.js';
import type { PoolSize } from './pool.js';

// Sizes as avgPool2d takes them: one number for both axes or [h, w].
type Pair = PoolSize;

function pair(name: string, v: Pair): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2) return [v[0], v[1]];
  throw new TypeError(`maxPool2d: '${name}' must be a number or [h, w], got ${JSON.stringify(v)}`);
}

/** Max pooling of (N, C, H, W); stride defaults to the kernel size; padding counts as -infinity. */
export function maxPool2d(x: Tensor, kernel: PoolSize, stride: PoolSize | null = null, padding: PoolSize = 0): Tensor {
  const k = pair('kernel', kernel);
  const s = stride === null || stride === undefined ? k : pair('stride', stride);
  const p = pair('padding', padding);
  const y = fromHandle(native.maxPool2d(x.device, x.handle, k, s, p));
  return record(y, 'maxPool2d', [x], (gy) => [fromHandle(native.maxPool2dBackward(gy.device, x.handle, gy.handle, k, s, p))]);
}
