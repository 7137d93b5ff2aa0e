import { it } from 'vitest';
import { Generator, rand, tidy, add } from '../lib/index.js';
import { createEmbedding } from '../lib/models/embedding/checkpoint.js';
import { ContrastiveRegularizer } from '../lib/losses/regularizer.js';
import { DEFAULT_BLUR, DEFAULT_SHARPEN } from '../lib/losses/samples.js';
import { createModel } from '../lib/models/mpfnet/mpfnet.js';
import { l1Loss } from '../lib/ops/index.js';
it('prof', () => {
  const e = createEmbedding({}, { seed: 3 }).freeze();
  const m = createModel({ scale: 4 }, { seed: 1 });
  const t = createModel({ scale: 4 }, { seed: 2 });
  const reg = new ContrastiveRegularizer(e, t, { tau: 1, chunk: 16, positives: { sharpened: 3, sharpen: { ...DEFAULT_SHARPEN }, teacher: true, gt: true }, negatives: { blurred: 4, blur: { ...DEFAULT_BLUR }, lr: true, others: 0, othersSource: 'hr' } });
  const lr = rand([1, 3, 48, 48]);
  const hr = rand([1, 3, 192, 192]);
  const rng = new Generator(1);
  for (let k = 0; k < 3; k++) {
    tidy(() => {
      const t0 = performance.now();
      const sr = m.forward(lr);
      const t1 = performance.now();
      const l = add(l1Loss(sr, hr), reg.compute(sr, hr, lr, rng));
      const t2 = performance.now();
      l.backward();
      const t3 = performance.now();
      const p = (globalThis as any).__prof;
      console.log(`fwd ${(t1 - t0).toFixed(0)} cr ${(t2 - t1).toFixed(0)} [anchor ${p.anchor.toFixed(0)} samples ${p.samples.toFixed(0)} E ${p.eSamples.toFixed(0)} sim ${p.sim.toFixed(0)}] bwd ${(t3 - t2).toFixed(0)}`);
      p.eSamples = 0;
    });
  }
});
