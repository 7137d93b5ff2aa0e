// Gradient bookkeeping for the tape: seeds, the gradients in flight (shared ones counted), sums of
// gradients that meet, and leaf accumulation.
import { native } from '../../bindings/index.js';
import { fromHandle, type Tensor } from '../tensor.js';
import { keep } from './scope.js';

export function onesLike(t: Tensor): Tensor {
  return fromHandle(native.full(t.device, t.dtype, t.shape, 1));
}

/**
 * The gradients in flight during one backward: each graph tensor's gradient so far, and how many
 * holders each gradient tensor has. An op's backward may hand its output's gradient on unchanged
 * (add's does, for both inputs), so one tensor can be the gradient of several inputs: such a
 * tensor is never written in place, and the last holder to let go disposes it. The caller's seed
 * (backward's `grad`) is never written or disposed.
 */
export class GradsInFlight {
  readonly #of = new Map<Tensor, Tensor>();
  readonly #holders = new Map<Tensor, number>();
  readonly #callers: Tensor | undefined;

  constructor(callers: Tensor | undefined) {
    this.#callers = callers;
  }

  /** One more holder of g (a gradient an op returned, or the seed). */
  hold(g: Tensor): void {
    this.#holders.set(g, (this.#holders.get(g) ?? 0) + 1);
  }

  /** One holder fewer; the last one disposes g (unless it is the caller's). */
  release(g: Tensor): void {
    const n = (this.#holders.get(g) ?? 1) - 1;
    if (n > 0) {
      this.#holders.set(g, n);
      return;
    }
    this.#holders.delete(g);
    if (g !== this.#callers) g.dispose();
  }

  /** g leaves the tape (its one holder gave it away). */
  forget(g: Tensor): void {
    this.#holders.delete(g);
  }

  /** Whether the one holder of g may write it in place or give it away. */
  exclusive(g: Tensor): boolean {
    return g !== this.#callers && this.#holders.get(g) === 1;
  }

  /** t's gradient so far, taken out: the caller now holds it. */
  take(t: Tensor): Tensor | undefined {
    const g = this.#of.get(t);
    if (g) this.#of.delete(t);
    return g;
  }

  /** Gives t the gradient g, whose holding passes to t. */
  put(t: Tensor, g: Tensor): void {
    this.#of.set(t, g);
  }

  /** The sum of two held gradients, into whichever is exclusively held (else a new tensor). */
  sum(a: Tensor, b: Tensor): Tensor {
    if (this.exclusive(a) || this.exclusive(b)) {
      const [into, from] = this.exclusive(a) ? [a, b] : [b, a];
      native.axpyInPlace(into.device, into.handle, from.handle, 1);
      this.release(from);
      return into;
    }
    const s = fromHandle(native.binaryForward(a.device, 'add', a.handle, b.handle), a);
    this.hold(s);
    this.release(a);
    this.release(b);
    return s;
  }

  /** Lets go of every gradient still in flight. */
  releaseAll(): void {
    for (const g of this.#of.values()) this.release(g);
    this.#of.clear();
  }
}

/** leaf.grad += g, g held by the caller in `flight` (released or given to the leaf). */
export function accumulateGrad(leaf: Tensor, g: Tensor, flight: GradsInFlight): void {
  if (leaf.grad && !leaf.grad.isDisposed) {
    native.axpyInPlace(leaf.device, leaf.grad.handle, g.handle, 1);
    flight.release(g);
    return;
  }
  if (flight.exclusive(g)) {
    flight.forget(g);
    leaf.grad = keep(g);
    return;
  }
  leaf.grad = keep(fromHandle(native.copy(g.handle, g.dtype), g));
  flight.release(g);
}
