// The per-pixel normalised similarity of contrastive regularisation (native/cpu/cr_similarity.cc)
// at E's tap sizes for a 192×192 HR patch: 10 samples against one anchor (conv1 / stage-1 taps,
// 64×192×192, and the stage-3 tap, 256×48×48), forward and the anchor's gradient.
import { native } from '../bindings/index.js';
import { randn, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'cr-similarity';

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const [c, hw, m] of [[64, 192, 10], [256, 48, 10], [64, 192, 40]] as const) {
    const n = m / 10;
    const index = Array.from({ length: m }, (_, r) => r % n);
    for (const pass of ['forward', 'backward'] as const) {
      let a: Tensor, b: Tensor, gs: Tensor;
      const elems = m * c * hw * hw;
      out.push({
        group,
        name: `crSimilarity ${pass} ${m} samples vs ${n} anchors [${c}x${hw}x${hw}]`,
        params: { pass, n, m, c, hw },
        // Per element: 3 multiply-adds forward (a·b, |a|², |b|²), about 8 backward.
        flops: (pass === 'forward' ? 6 : 16) * elems,
        bytes: 4 * (elems + n * c * hw * hw),
        setup: () => {
          a = randn([n, c, hw, hw]);
          b = randn([m, c, hw, hw]);
          gs = randn([m]);
        },
        fn: () => {
          if (pass === 'forward') native.dispose(native.crSimilarity('cpu', a.handle, b.handle, index, 1e-12));
          else for (const h of native.crSimilarityBackward('cpu', a.handle, b.handle, index, 1e-12, gs.handle, true, false)) if (h !== null) native.dispose(h);
        },
        teardown: () => {
          a.dispose();
          b.dispose();
          gs.dispose();
        },
      });
    }
  }
  return out;
}
