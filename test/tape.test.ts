// The tape's handling of gradients shared between inputs: add passes its output's gradient to both
// inputs unchanged (lib/ops/binary.ts), so one tensor can be the gradient of several tensors at
// once. It must never be written in place while shared, the caller's seed never at all, and every
// gradient the tape made must be freed (lib/autograd/grad-utils.ts, GradsInFlight).
import { describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';

const live = () => {
  const { cachedBytes: _cached, ...m } = mp.memory();
  return m;
};
const param = (values: number[]) => {
  const t = mp.tensor(values, [values.length], { dtype: 'float64' });
  t.requiresGrad = true;
  return t;
};

describe('the tape with shared gradients', () => {
  it('add(p, p): both inputs get the same gradient, summed into a new tensor', () => {
    const p = param([0.3, -1.2, 2.5]);
    mp.tidy(() => mp.sum(mp.add(p, p)).backward());
    expect(p.grad!.toArray()).toEqual([2, 2, 2]);
    p.dispose();
  });

  it('a gradient shared by a leaf and an op: the op reads it, the leaf sums it with its other path', () => {
    const p = param([0.3, -1.2, 2.5]);
    const q = param([1.5, 0.25, -0.75]);
    // y = p·q + p: add hands d y to both p·q and p; mul reads it for both of its inputs.
    mp.tidy(() => mp.sum(mp.add(mp.mul(p, q), p)).backward());
    expect(p.grad!.toArray()).toEqual([2.5, 1.25, 0.25]);
    expect(q.grad!.toArray()).toEqual([0.3, -1.2, 2.5]);
    p.dispose();
    q.dispose();
  });

  it("a chain of sums keeps the caller's seed unchanged and gives each leaf its own copy", () => {
    const p = param([1, 2]);
    const q = param([3, 4]);
    const r = param([5, 6]);
    const seed = mp.tensor([0.5, -2], [2], { dtype: 'float64' });
    mp.tidy(() => mp.add(mp.add(p, q), r).backward(seed));
    expect(seed.isDisposed).toBe(false);
    expect(seed.toArray()).toEqual([0.5, -2]);
    for (const t of [p, q, r]) {
      expect(t.grad!.toArray()).toEqual([0.5, -2]);
      expect(t.grad).not.toBe(seed);
    }
    // Accumulation into existing .grad (a second backward) leaves the seed alone too.
    mp.tidy(() => mp.add(p, q).backward(seed));
    expect(p.grad!.toArray()).toEqual([1, -4]);
    expect(seed.toArray()).toEqual([0.5, -2]);
    for (const t of [p, q, r, seed]) t.dispose();
  });

  it('frees every gradient it made, shared ones included', () => {
    const p = param([0.3, -1.2, 2.5]);
    const q = param([1.5, 0.25, -0.75]);
    const run = () =>
      mp.tidy(() => {
        const a = mp.add(p, q);
        const b = mp.add(a, mp.mul(a, p));
        mp.sum(mp.add(b, a)).backward();
      });
    run(); // the leaves' .grad exist from here on
    const before = live();
    for (let i = 0; i < 5; i++) run();
    expect(live()).toEqual(before);
    // f = sum(a + a·p + a) with a = p + q: df/dp = 2 + p + a = 2 + 2p + q, six runs accumulated
    const want = [0.3, -1.2, 2.5].map((pv, i) => 6 * (2 + 2 * pv + [1.5, 0.25, -0.75][i]!));
    p.grad!.toArray().forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
    p.dispose();
    q.dispose();
  });
});
