// Pooling, each an autograd function. Kernels: native/cpu/pool.cc.
import { native } from '../../bindings/index.js';
import { record } from '../autograd/tape.js';
import { fromHandle, type Tensor } from '../tensor.js';
import { checkTensor } from './check.js';

/** A pooling size given once for both axes or as [h, w]. */
export type PoolSize = number | readonly [number, number];

function pair(op: string, name: string, v: PoolSize): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2) return [v[0], v[1]];
  throw new TypeError(`${op}: '${name}' must be a number or [h, w], got ${JSON.stringify(v)}`);
}

/**
 * 2-D average pooling of (N, C, H, W), PyTorch's avg_pool2d with count_include_pad = true and
 * ceil_mode = false: every window divides by kh * kw. stride defaults to the kernel size.
 */
export function avgPool2d(x: Tensor, kernel: PoolSize, stride: PoolSize | null = null, padding: PoolSize = 0): Tensor {
  checkTensor('avgPool2d', 'x', x);
  const k = pair('avgPool2d', 'kernel', kernel);
  const s = stride === null || stride === undefined ? k : pair('avgPool2d', 'stride', stride);
  const p = pair('avgPool2d', 'padding', padding);
  const y = fromHandle(native.avgPool2d(x.device, x.handle, k, s, p));
  const xShape = x.shape;
  return record(y, 'avgPool2d', [x], (gy) => [fromHandle(native.avgPool2dBackward(gy.device, gy.handle, xShape, k, s, p))]);
}
