// PyTorch golden fixtures written by test/fixtures/gen_ops.py: loading, tensors from stored
// arrays, and the forward + gradient comparison every op family runs.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { tensor, tidy, type DType, type Tensor } from '../../lib/index.js';
import { expectClose } from './gradcheck.js';

export interface Stored {
  shape: number[];
  data: number[];
}

/** One case of a fixture family; P describes its params (what gen_*.py wrote). */
export interface FixtureCase<P = Record<string, unknown>> {
  name: string;
  params: P;
  inputs: Stored[];
  outputs: Stored[];
  grads?: (Stored | null)[];
}

const here = dirname(fileURLToPath(import.meta.url));

export function loadFixture<C = FixtureCase>(family: string): C[] {
  const f = JSON.parse(readFileSync(join(here, '..', 'fixtures', `${family}.json`), 'utf8')) as { cases: C[] };
  return f.cases;
}

export function fromStored(s: Stored, dtype: DType = 'float64', requiresGrad = false): Tensor {
  return tensor(s.data, s.shape, { dtype, requiresGrad });
}

/** The loss weights of gen_ops.py's weights(): w[i] = ((37 i) mod 17) / 8 - 0.9. */
export function fixtureWeights(shape: readonly number[], dtype: DType = 'float64'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = ((37 * i) % 17) / 8 - 0.9;
  return tensor(w, shape, { dtype });
}

/**
 * Runs fn on the case's inputs (float64 leaves), compares every output with PyTorch's within
 * fwdTol and, when the case stores gradients, backpropagates sum(y * w) and compares within
 * gradTol (relative, floor 1e-3).
 */
export function checkAgainstTorch(c: FixtureCase, fn: (...xs: Tensor[]) => Tensor | Tensor[], fwdTol = 1e-5, gradTol = 1e-4): void {
  tidy(() => {
    const leaves = c.inputs.map((s) => fromStored(s, 'float64', true));
    const out = fn(...leaves);
    const ys = Array.isArray(out) ? out : [out];
    expect(ys.length, `${c.name}: number of outputs`).toBe(c.outputs.length);
    ys.forEach((y, i) => {
      expect([...y.shape], `${c.name} output ${i} shape`).toEqual(c.outputs[i]!.shape);
      expectClose(y.toFloat64Array(), c.outputs[i]!.data, fwdTol, `${c.name} ${JSON.stringify(c.params)} output ${i}`);
    });
    if (!c.grads) return;
    for (const y of ys) if (y.requiresGrad) y.backward(fixtureWeights(y.shape));
    c.grads.forEach((g, i) => {
      if (!g) return;
      const got = leaves[i]!.grad;
      expect(got, `${c.name}: input ${i} got no gradient`).not.toBeNull();
      expect([...got!.shape]).toEqual(g.shape);
      expectClose(got!.toFloat64Array(), g.data, gradTol, `${c.name} ${JSON.stringify(c.params)} grad ${i}`);
    });
  });
}

/** xs[i], or an error naming the fixture field when the fixture is shorter than the test expects. */
export function item<T>(xs: readonly T[], i: number, what: string): T {
  if (i < 0 || i >= xs.length) throw new RangeError(`fixture field ${what} has ${xs.length} entries, the test reads entry ${i}`);
  return xs[i] as T;
}
