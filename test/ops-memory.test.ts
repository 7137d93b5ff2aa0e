// A training-like loop over the basic op families (binary, reduce, shape, loss, pool, adam,
// unary), and conv2d with its fused SELU: forward / backward / update steps inside tidy() must
// leave memory() flat.
import { describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';

/** Step 1 warms up (first-use allocations); steps 2..n must leave memory() exactly where it was. */
function expectFlatMemory(step: (k: number) => number, n: number): void {
  step(1);
  const before = mp.memory();
  let last = 0;
  for (let k = 2; k <= n; k++) last = step(k);
  const after = mp.memory();
  expect(Number.isFinite(last)).toBe(true);
  expect(after.tensors).toBe(before.tensors);
  expect(after.storages).toBe(before.storages);
  expect(after.bytes).toBe(before.bytes);
}

describe('op families: memory over a long loop', () => {
  it('1000 forward/backward/Adam steps inside tidy() leave memory() flat', () => {
    const g = new mp.Generator(11);
    const w = mp.randn([1, 8, 1, 1], { generator: g }).requiresGrad_();
    const b = mp.randn([1, 2, 6, 6], { generator: g }).requiresGrad_();
    const params = [w, b];
    const state = params.map((p) => ({ m: mp.zerosLike(p), v: mp.zerosLike(p) }));
    const x = mp.randn([2, 8, 6, 6], { generator: g });
    const target = mp.randn([2, 2, 6, 6], { generator: g });
    const step = (k: number) =>
      mp.tidy(() => {
        const s = mp.sigmoid(mp.mean(mp.mul(x, w), [2, 3], true)); // SE-like gate
        const h = mp.selu(mp.add(mp.mul(x, s), mp.div(1, mp.add(mp.square(w), 1))));
        const [h1, h2] = mp.split(h, [4, 4], 1);
        const c = mp.cat([h2!, mp.sub(h1!, 0.5)], 1);
        const up = mp.pixelShuffle(c, 2); // [2, 2, 12, 12]
        const down = mp.avgPool2d(up, 2); // [2, 2, 6, 6]
        const flat = mp.flatten(mp.add(down, b));
        const lse = mp.mean(mp.logSumExp(mp.reshape(flat, [2, 2, -1]), -1));
        const loss = mp.add(mp.l1Loss(mp.reshape(flat, [2, 2, 6, 6]), target), mp.mulScalar(mp.sum(lse), 1e-3));
        loss.backward();
        mp.noGrad(() => params.forEach((p, i) => mp.adamUpdate(p, p.grad!, state[i]!.m, state[i]!.v, { lr: 1e-3, step: k })));
        for (const p of params) {
          p.grad!.dispose();
          p.grad = null;
        }
        return loss.item();
      });
    expectFlatMemory(step, 1000);
  });

  it('training steps through conv2d with fused SELU (its backward frees the SELU gradient it makes) leave memory() flat', () => {
    const g = new mp.Generator(12);
    const w = mp.randn([6, 5, 3, 3], { generator: g, std: 0.2 }).requiresGrad_();
    const b = mp.randn([6], { generator: g }).requiresGrad_();
    const params = [w, b];
    const state = params.map((p) => ({ m: mp.zerosLike(p), v: mp.zerosLike(p) }));
    const parts = [mp.randn([2, 3, 7, 6], { generator: g }), mp.randn([2, 2, 7, 6], { generator: g }).requiresGrad_()];
    const target = mp.randn([2, 6, 7, 6], { generator: g });
    const step = (k: number) =>
      mp.tidy(() => {
        const loss = mp.l1Loss(mp.conv2d(parts, w, b, { padding: 1, activation: 'selu' }), target);
        loss.backward();
        mp.noGrad(() => params.forEach((p, i) => mp.adamUpdate(p, p.grad!, state[i]!.m, state[i]!.v, { lr: 1e-3, step: k })));
        for (const p of [...params, parts[1]!]) {
          p.grad!.dispose();
          p.grad = null;
        }
        return loss.item();
      });
    expectFlatMemory(step, 200);
  });
});
