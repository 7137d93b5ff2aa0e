// Finite-difference gradient checks in float64, and comparison helpers, for every op's tests.
import { expect } from 'vitest';
import { Generator, Tensor, noGrad, randn, tensor, tidy } from '../../lib/index.js';

/** A float64 leaf of the given shape with seeded normal values (never zeros). */
export function randLeaf(shape: number[], seed: number, opts: { scale?: number; shift?: number } = {}): Tensor {
  const g = new Generator(seed);
  const t = randn(shape, { dtype: 'float64', generator: g, std: opts.scale ?? 1, mean: opts.shift ?? 0 });
  t.requiresGrad = true;
  return t;
}

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
  /** Indices of inputs whose gradient is checked (default: all with requiresGrad). */
  only?: number[];
}

/**
 * Checks the analytic gradients of f at `inputs` (float64 leaves) against central differences of
 * <f(x), w> for a seeded random w. Every input element is perturbed, so keep shapes small.
 */
export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], o: GradcheckOptions = {}): void {
  const eps = o.eps ?? 1e-6;
  const atol = o.atol ?? 1e-6;
  const rtol = o.rtol ?? 1e-5;
  for (const x of inputs) {
    expect(x.dtype).toBe('float64');
    x.grad?.dispose();
    x.grad = null;
  }
  const check = o.only ?? inputs.map((x, i) => (x.requiresGrad ? i : -1)).filter((i) => i >= 0);
  tidy(() => {
    const y = f(...inputs);
    const w = randn([...y.shape], { dtype: 'float64', generator: new Generator(o.seed ?? 99) });
    const wv = w.toFloat64Array();
    y.backward(w);
    const dot = (xs: Tensor[]) =>
      noGrad(() =>
        tidy(() => {
          const yv = f(...xs).toFloat64Array();
          let s = 0;
          for (let i = 0; i < yv.length; i++) s += yv[i]! * wv[i]!;
          return s;
        }),
      );
    for (const k of check) {
      const x = inputs[k]!;
      expect(x.grad, `input ${k} got no gradient`).not.toBeNull();
      const analytic = x.grad!.toFloat64Array();
      const base = x.toFloat64Array();
      for (let j = 0; j < base.length; j++) {
        const plus = Float64Array.from(base);
        plus[j]! += eps;
        const minus = Float64Array.from(base);
        minus[j]! -= eps;
        const args = (v: Float64Array) =>
          inputs.map((t, i) => (i === k ? tensor(v, [...x.shape], { dtype: 'float64' }) : t));
        const numeric = (dot(args(plus)) - dot(args(minus))) / (2 * eps);
        const a = analytic[j]!;
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
          throw new Error(`gradcheck: input ${k} element ${j}: analytic ${a} vs numeric ${numeric}`);
        }
      }
    }
  });
}

/** Max |a-b| / max(|b|, floor) over all elements; fails on NaN (e.g. an unwritten output). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, label = '', floor = 1e-3): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const err = Math.abs(a - e) / Math.max(Math.abs(e), floor);
    if (!(err <= worst)) {
      worst = Number.isNaN(err) ? Infinity : err;
      at = i;
    }
  }
  if (!(worst <= rtol)) throw new Error(`${label}: relative error ${worst} at element ${at} (got ${actual[at]}, expected ${expected[at]}) exceeds ${rtol}`);
}
