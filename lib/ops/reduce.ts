// Reductions, each an autograd function: sum, mean, logSumExp, and sumToShape (the reduction that
// undoes broadcasting). Kernels: native/cpu/reduce.cc. Results are never 0-d: reducing every
// element gives shape [1].
import { native } from '../../bindings/index.js';
import { record } from '../autograd/tape.js';
import { fromHandle, type Tensor } from '../tensor.js';
import { checkTensor } from './check.js';

/** The dimensions to reduce: one, several, or all (null / undefined). */
export type ReduceDims = number | readonly number[] | null | undefined;

function dimList(dims: ReduceDims): readonly number[] | null {
  if (dims === undefined || dims === null) return null;
  return typeof dims === 'number' ? [dims] : dims;
}

function reduce(op: 'sum' | 'mean', x: Tensor, dims: ReduceDims, keepdim: boolean): Tensor {
  checkTensor(op, 'x', x);
  const d = dimList(dims);
  const y = fromHandle(native.reduceForward(x.device, op, x.handle, d, keepdim));
  const xShape = x.shape;
  return record(y, op, [x], (gy) => [fromHandle(native.reduceBackward(gy.device, op, gy.handle, xShape, d, keepdim))]);
}

/** The sum over `dims` (a dim or a list; omitted: every element, giving shape [1]). */
export function sum(x: Tensor, dims?: ReduceDims, keepdim = false): Tensor {
  return reduce('sum', x, dims, keepdim);
}

/** The mean over `dims` (a dim or a list; omitted: every element, giving shape [1]). */
export function mean(x: Tensor, dims?: ReduceDims, keepdim = false): Tensor {
  return reduce('mean', x, dims, keepdim);
}

/** log(sum(exp(x), dim)), computed stably (shifted by the max). */
export function logSumExp(x: Tensor, dim: number, keepdim = false): Tensor {
  checkTensor('logSumExp', 'x', x);
  const y = fromHandle(native.logSumExp(x.device, x.handle, dim, keepdim));
  return record(y, 'logSumExp', [x], (gy) => [fromHandle(native.logSumExpBackward(gy.device, x.handle, y.handle, gy.handle, dim, keepdim))]);
}

/**
 * x summed down to `shape`, which must broadcast to x's shape: the sum runs over the dims where
 * shape has 1 (or has no entry). The gradient of a broadcast.
 */
export function sumToShape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('sumToShape', 'x', x);
  const y = fromHandle(native.sumToShape(x.device, x.handle, shape));
  const xShape = x.shape;
  return record(y, 'sumToShape', [x], (gy) => {
    // gy seen with x's rank (leading 1s) is x's sum with keepdim over the dims where it is 1.
    const aligned = [...new Array<number>(xShape.length - shape.length).fill(1), ...shape];
    const dims = aligned.flatMap((s, d) => (s === 1 && xShape[d] !== 1 ? [d] : []));
    if (dims.length === 0) return [fromHandle(native.reshape(gy.device, gy.handle, xShape, true))];
    const g = fromHandle(native.reshape(gy.device, gy.handle, aligned, false));
    try {
      return [fromHandle(native.reduceBackward(g.device, 'sum', g.handle, xShape, dims, true))];
    } finally {
      g.dispose();
    }
  });
}
