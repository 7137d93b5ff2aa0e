// Shape ops, each an autograd function: reshape (a view), flatten, cat, split, pixelShuffle,
// pixelUnshuffle. Kernels: native/cpu/shape.cc.
import { native } from '../../bindings/index.js';
import { isGradEnabled } from '../autograd/scope.js';
import { record } from '../autograd/tape.js';
import { fromHandle, type Tensor } from '../tensor.js';
import { checkInt, checkTensor, normDim } from './check.js';

/**
 * x with a new shape and the same data, as a view (no copy). One entry may be -1 (inferred).
 * The gradient is copied back to x's shape, so gradients never alias each other.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('reshape', 'x', x);
  if (!Array.isArray(shape)) throw new TypeError(`reshape: 'shape' must be an array of integers`);
  const y = fromHandle(native.reshape(x.device, x.handle, shape, false));
  const xShape = x.shape;
  return record(y, 'reshape', [x], (gy) => [fromHandle(native.reshape(gy.device, gy.handle, xShape, true))]);
}

/** Dims startDim..endDim merged into one (PyTorch's flatten; default: all but the batch dim). */
export function flatten(x: Tensor, startDim = 1, endDim = -1): Tensor {
  checkTensor('flatten', 'x', x);
  const s = normDim('flatten', 'startDim', startDim, x.rank);
  const e = normDim('flatten', 'endDim', endDim, x.rank);
  if (s > e) throw new RangeError(`flatten: 'startDim' ${startDim} comes after 'endDim' ${endDim} for shape [${x.shape.join(', ')}]`);
  const merged = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/** The tensors joined along `dim` (all other dims equal). */
export function cat(xs: readonly Tensor[], dim = 1): Tensor {
  const given: unknown = xs; // callers from JavaScript may pass anything
  if (!Array.isArray(given)) throw new TypeError(`cat: 'xs' must be an array of Tensors`);
  if (xs.length === 0) throw new RangeError(`cat: 'xs' must not be empty`);
  xs.forEach((x, i) => checkTensor('cat', `xs[${i}]`, x));
  const d = normDim('cat', 'dim', dim, xs[0]!.rank);
  const inputs = [...xs];
  const y = fromHandle(native.cat(inputs[0]!.device, inputs.map((x) => x.handle), d));
  return record(y, 'cat', inputs, (gy) => native.split(gy.device, gy.handle, inputs.map((x) => x.shape[d]!), d).map((h, i) => fromHandle(h, inputs[i])));
}

/**
 * x cut along `dim` into pieces (torch.split): a number gives pieces of that size (the last may be
 * smaller), a list gives pieces of those sizes (which must add up to x.shape[dim]).
 */
export function split(x: Tensor, sizeOrSizes: number | readonly number[], dim = 1): Tensor[] {
  checkTensor('split', 'x', x);
  const d = normDim('split', 'dim', dim, x.rank);
  const n = x.shape[d]!;
  let sizes: readonly number[];
  if (typeof sizeOrSizes === 'number') {
    checkInt('split', 'sizeOrSizes', sizeOrSizes, 1);
    sizes = Array.from({ length: Math.ceil(n / sizeOrSizes) }, (_, i) => Math.min(sizeOrSizes, n - i * sizeOrSizes));
  } else if (Array.isArray(sizeOrSizes)) {
    sizes = sizeOrSizes;
  } else {
    throw new TypeError(`split: 'sizeOrSizes' must be an integer or an array of integers`);
  }
  const pieces = native.split(x.device, x.handle, sizes, d).map((h) => fromHandle(h));
  const xShape = x.shape;
  let offset = 0;
  return pieces.map((p, i) => {
    const at = offset;
    offset += sizes[i]!;
    return record(p, 'split', [x], (gy) => [fromHandle(native.splitBackward(gy.device, gy.handle, xShape, d, at))]);
  });
}

/** (N, C*r*r, H, W) -> (N, C, H*r, W*r), PyTorch's pixel_shuffle. */
export function pixelShuffle(x: Tensor, r: number): Tensor {
  checkTensor('pixelShuffle', 'x', x);
  const y = fromHandle(native.pixelShuffle(x.device, x.handle, r));
  return record(y, 'pixelShuffle', [x], (gy) => [fromHandle(native.pixelUnshuffle(gy.device, gy.handle, r))]);
}

/**
 * Write pixelShuffle(x, r) into channels [channelOffset, channelOffset + C) of `out`, in place:
 * inference assembles a large shuffled map from pieces this way without ever holding the whole
 * unshuffled map. Not differentiable: refuses inputs that require a gradient while the tape records.
 */
export function pixelShuffleInto(x: Tensor, r: number, out: Tensor, channelOffset: number): void {
  checkTensor('pixelShuffleInto', 'x', x);
  checkTensor('pixelShuffleInto', 'out', out);
  checkInt('pixelShuffleInto', 'channelOffset', channelOffset, 0);
  if (isGradEnabled() && (x.requiresGrad || out.requiresGrad))
    throw new TypeError('pixelShuffleInto: writes in place and has no gradient; call it with the tape off (noGrad) or on tensors that do not require a gradient');
  native.pixelShuffleInto(x.device, x.handle, r, out.handle, channelOffset);
}

/** (N, C, H*r, W*r) -> (N, C*r*r, H, W), the inverse of pixelShuffle. */
export function pixelUnshuffle(x: Tensor, r: number): Tensor {
  checkTensor('pixelUnshuffle', 'x', x);
  const y = fromHandle(native.pixelUnshuffle(x.device, x.handle, r));
  return record(y, 'pixelUnshuffle', [x], (gy) => [fromHandle(native.pixelShuffle(gy.device, gy.handle, r))]);
}
