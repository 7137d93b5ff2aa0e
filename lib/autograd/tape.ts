// The autograd tape, micrograd style. Each op's output remembers a GradNode: its inputs and a
// closure mapping the output's gradient to the inputs' gradients. backward() walks the graph in
// reverse topological order, sums gradients that meet, frees each intermediate gradient as soon as
// it has been used, and accumulates into .grad of leaves that require it. An op may return its
// output's gradient itself as an input's (add does, saving a copy per input); the tape counts
// each gradient's holders and never writes a shared one in place (grad-utils.ts).
import type { Tensor } from '../tensor.js';
import { isGradEnabled, noGrad } from './scope.js';
import { accumulateGrad, GradsInFlight, onesLike } from './grad-utils.js';

export interface GradNode {
  /** The op's name, for errors and debugging. */
  name: string;
  inputs: readonly (Tensor | null)[];
  /**
   * Gradients of the inputs given the output's gradient (null: no gradient for that input). The
   * result may contain gy itself, or one tensor more than once; it must not write gy.
   */
  backward(gy: Tensor): readonly (Tensor | null)[];
}

/**
 * Record `out` as produced by `name` from `inputs`, when the grad mode is on and some input
 * requires a gradient. Returns `out`.
 */
export function record(out: Tensor, name: string, inputs: readonly (Tensor | null)[], backward: GradNode['backward']): Tensor {
  if (!isGradEnabled()) return out;
  if (!inputs.some((t) => t?.requiresGrad)) return out;
  out.requiresGrad = true;
  out.gradFn = { name, inputs, backward };
  return out;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: MPF-Net graphs are deep enough to make recursion risky.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const child = inputs[i];
      if (child && child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order; // children before parents
}

export function backward(root: Tensor, grad?: Tensor): void {
  if (root.isDisposed) throw new TypeError('backward: the tensor was disposed');
  if (!root.requiresGrad) throw new TypeError('backward: the tensor does not require a gradient (no input had requiresGrad)');
  if (grad) {
    if (grad.shape.length !== root.shape.length || grad.shape.some((d, i) => d !== root.shape[i]))
      throw new RangeError(`backward: grad shape [${grad.shape.join(', ')}] differs from the tensor's [${root.shape.join(', ')}]`);
  } else if (root.numel !== 1) {
    throw new RangeError(`backward: grad can be implied only for one-element tensors, got shape [${root.shape.join(', ')}]`);
  }
  noGrad(() => {
    const order = topoOrder(root);
    const flight = new GradsInFlight(grad);
    const seed = grad ?? onesLike(root);
    flight.hold(seed);
    flight.put(root, seed);
    try {
      for (let k = order.length - 1; k >= 0; k--) {
        const t = order[k]!;
        const g = flight.take(t);
        if (!g) continue;
        if (!t.gradFn) {
          accumulateGrad(t, g, flight);
          continue;
        }
        const inputs = t.gradFn.inputs;
        const gin = t.gradFn.backward(g);
        for (const gx of gin) if (gx) flight.hold(gx);
        flight.release(g);
        for (let i = 0; i < inputs.length; i++) {
          const x = inputs[i];
          const gx = gin[i];
          if (!gx) continue;
          if (!x || !x.requiresGrad) {
            flight.release(gx);
            continue;
          }
          const prev = flight.take(x);
          flight.put(x, prev ? flight.sum(prev, gx) : gx);
        }
      }
    } finally {
      flight.releaseAll();
    }
  });
}
