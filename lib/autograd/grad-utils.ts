// Gradient bookkeeping for the tape: seeds, sums of gradients that meet, and leaf accumulation.
import { native } from '../../bindings/index.js';
import { fromHandle, type Tensor } from '../tensor.js';
import { keep } from './scope.js';

export function onesLike(t: Tensor): Tensor {
  return fromHandle(native.full(t.device, t.dtype, t.shape, 1));
}

/** a + b, reusing a's buffer; b is disposed. Both are tape-owned intermediates. */
export function addGrads(a: Tensor, b: Tensor): Tensor {
  native.axpyInPlace(a.device, a.handle, b.handle, 1);
  b.dispose();
  return a;
}

/** leaf.grad += g. `owned`: g belongs to the tape and may become leaf.grad itself. */
export function accumulateGrad(leaf: Tensor, g: Tensor, owned: boolean): void {
  if (leaf.grad && !leaf.grad.isDisposed) {
    native.axpyInPlace(leaf.device, leaf.grad.handle, g.handle, 1);
    if (owned) g.dispose();
    return;
  }
  leaf.grad = keep(owned ? g : fromHandle(native.copy(g.handle, g.dtype)));
}
