// Contrastive regularisation's loss (lib/losses/contrastive.ts, lib/ops/cr-similarity.ts,
// lib/losses/regularizer.ts): the per-pixel similarity and eq. 10 against PyTorch
// (test/fixtures/gen_contrastive.py), finite differences in float64, float32 against float64, and
// the whole regulariser against the one-layer loss it is built from.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Generator, Tensor, add, cat, mean, memory, noGrad, rand, reshape, split, tidy } from '../lib/index.js';
import { crSimilarity } from '../lib/ops/cr-similarity.js';
import { native } from '../bindings/index.js';
import { contrastiveLoss, infoNce } from '../lib/losses/contrastive.js';
import { ContrastiveRegularizer, cropHW, type NegativeSpec, type PositiveSpec } from '../lib/losses/regularizer.js';
import { createEmbedding } from '../lib/models/embedding/checkpoint.js';
import { DEFAULT_BLUR, DEFAULT_SHARPEN } from '../lib/losses/samples.js';
import { checkAgainstTorch, type FixtureCase } from './helpers/fixtures.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';

const golden = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'contrastive.json'), 'utf8')) as { similarity: FixtureCase[]; loss: FixtureCase[] };
const loadGolden = () => golden;

describe('crSimilarity (PCL per-pixel similarity)', () => {
  it.each(loadGolden().similarity.map((c) => [c.name, c] as const))('matches PyTorch: %s', (_n, c) => {
    checkAgainstTorch(c, (a, b) => crSimilarity(a, b, c.params.index as number[]));
  });

  it('finite differences in float64 (anchors and samples)', () => {
    const a = randLeaf([2, 3, 2, 3], 1);
    const b = randLeaf([3, 3, 2, 3], 2);
    gradcheck((x, y) => crSimilarity(x, y, [1, 0, 1]), [a, b]);
  });

  it('float32 agrees with float64', () => {
    tidy(() => {
      const a = rand([2, 8, 5, 6], { generator: new Generator(3), dtype: 'float64', low: -1, high: 1 });
      const b = rand([4, 8, 5, 6], { generator: new Generator(4), dtype: 'float64', low: -1, high: 1 });
      const s64 = crSimilarity(a, b, [0, 1, 1, 0]).toFloat64Array();
      const s32 = crSimilarity(a.astype('float32'), b.astype('float32'), [0, 1, 1, 0]).toFloat64Array();
      expectClose(s32, s64, 1e-5, 'float32 vs float64');
    });
  });

  it('validates its arguments, naming them', () => {
    tidy(() => {
      const a = rand([2, 3, 4, 4]);
      const b = rand([3, 3, 4, 4]);
      expect(() => crSimilarity(a, b, [0, 1])).toThrow(/crSimilarity: 'index' must have 3 entries, got 2/);
      expect(() => crSimilarity(a, b, [0, 1, 2])).toThrow(/crSimilarity: 'index\[2\]' must be in \[0, 1\], got 2/);
      expect(() => crSimilarity(a, rand([3, 2, 4, 4]), [0, 1, 1])).toThrow(/crSimilarity: 'a' \[2, 3, 4, 4\] and 'b' \[3, 2, 4, 4\] must agree in \(C, H, W\)/);
      expect(() => crSimilarity(a, b.astype('float64'), [0, 1, 1])).toThrow(/'b' is float64 but float32 is expected/);
      expect(() => native.crSimilarity('cpu', a.handle, b.handle, [0, 1, 1], 0)).toThrow(/'eps' must be in/);
      expect(() => crSimilarity(reshape(a, [2, 48]), b, [0, 1, 1])).toThrow(/'a' must be 4-D/);
    });
  });
});

describe('contrastiveLoss (eq. 10, one layer)', () => {
  it.each(loadGolden().loss.map((c) => [c.name, c] as const))('forward and gradients match PyTorch: %s', (_n, c) => {
    checkAgainstTorch(c, (a, p, n) => contrastiveLoss(a, p, n, { tau: c.params.tau as number }));
  });

  it('finite differences in float64', () => {
    const a = randLeaf([2, 3, 2, 2], 5);
    const p = randLeaf([2, 2, 3, 2, 2], 6);
    const n = randLeaf([2, 3, 3, 2, 2], 7);
    gradcheck((x, y, z) => contrastiveLoss(x, y, z, { tau: 0.7 }), [a, p, n]);
  });

  it('infoNce (the regulariser\'s per-image form) equals it, gradients included', () => {
    tidy(() => {
      const a = rand([1, 4, 3, 3], { generator: new Generator(8), dtype: 'float64', low: -1, high: 1 });
      const p = rand([1, 3, 4, 3, 3], { generator: new Generator(9), dtype: 'float64', low: -1, high: 1 });
      const n = rand([1, 2, 4, 3, 3], { generator: new Generator(10), dtype: 'float64', low: -1, high: 1 });
      const sp = crSimilarity(a, reshape(p, [3, 4, 3, 3]), [0, 0, 0]).toFloat64Array();
      const sn = crSimilarity(a, reshape(n, [2, 4, 3, 3]), [0, 0]).toFloat64Array();
      const r = infoNce(sp, sn, 0.3);
      expect(r.loss).toBeCloseTo(contrastiveLoss(a, p, n, { tau: 0.3 }).item(), 12);
      // ∂L/∂s by differences.
      const h = 1e-6;
      const bump = (arr: Float64Array, i: number, d: number) => Float64Array.from(arr, (v, j) => (j === i ? v + d : v));
      for (let i = 0; i < 3; i++) expect(r.gPos[i]).toBeCloseTo((infoNce(bump(sp, i, h), sn, 0.3).loss - infoNce(bump(sp, i, -h), sn, 0.3).loss) / (2 * h), 7);
      for (let i = 0; i < 2; i++) expect(r.gNeg[i]).toBeCloseTo((infoNce(sp, bump(sn, i, h), 0.3).loss - infoNce(sp, bump(sn, i, -h), 0.3).loss) / (2 * h), 7);
    });
  });

  it('takes positives and negatives as arrays of (N, C, H, W) tensors: bitwise the stacked result, same gradients', () => {
    tidy(() => {
      for (const dtype of ['float32', 'float64'] as const) {
        const g = new Generator(11);
        const r = () => rand([2, 3, 4, 5], { dtype, generator: g });
        const a = r();
        const ps = [r(), r()];
        const ns = [r()];
        const stack = (ts: Tensor[]) => cat(ts.map((t) => reshape(t, [2, 1, 3, 4, 5])), 1);
        const fromStacked = contrastiveLoss(a, stack(ps), stack(ns), { tau: 0.5 }).item();
        expect(contrastiveLoss(a, ps, ns, { tau: 0.5 }).item()).toBe(fromStacked);
        expect(contrastiveLoss(a, stack(ps), ns, { tau: 0.5 }).item()).toBe(fromStacked);
        expect(contrastiveLoss(a, [ps[0]!], ns, { tau: 0.5 }).item()).toBe(contrastiveLoss(a, stack([ps[0]!]), stack(ns), { tau: 0.5 }).item());
      }
      // Gradients reach every array element (finite differences, float64).
      gradcheck((x, y, z, u) => contrastiveLoss(x, [y, z], [u], { tau: 0.7 }), [randLeaf([1, 2, 3, 3], 1), randLeaf([1, 2, 3, 3], 2), randLeaf([1, 2, 3, 3], 3), randLeaf([1, 2, 3, 3], 4)]);
    });
  });

  it('names the accepted forms when given something else', () => {
    tidy(() => {
      const a = rand([2, 3, 4, 4]);
      const p = rand([2, 2, 3, 4, 4]);
      expect(() => contrastiveLoss(a, [], p)).toThrow(TypeError);
      expect(() => contrastiveLoss(a, [], p)).toThrow(/positives must be a \(N, K, C, H, W\) tensor or a non-empty array of \(N, C, H, W\) tensors \(N, C, H, W = 2, 3, 4, 4\), got an array of 0/);
      expect(() => contrastiveLoss(a, p, [rand([2, 3, 4, 4]), rand([2, 3, 5, 4])])).toThrow(/negatives\[1\] must be an \(N, C, H, W\) = \(2, 3, 4, 4\) tensor like the anchor, got a tensor \[2, 3, 5, 4\]/);
      expect(() => contrastiveLoss(a, p, [p as never])).toThrow(/negatives\[0\] must be .* got a tensor \[2, 2, 3, 4, 4\]/);
      expect(() => contrastiveLoss(a, p, 'x' as never)).toThrow(/negatives must be .* got string/);
      expect(() => contrastiveLoss([a] as never, p, p)).toThrow(/anchor must be an \(N, C, H, W\) tensor, got an array/);
    });
  });

  it('rejects bad shapes and temperatures', () => {
    tidy(() => {
      const a = rand([2, 3, 4, 4]);
      const p = rand([2, 2, 3, 4, 4]);
      expect(() => contrastiveLoss(a, p, p, { tau: 0 })).toThrow(/tau must be a positive finite number, got 0/);
      expect(() => contrastiveLoss(a, rand([2, 3, 4, 4]), p)).toThrow(/positives must be \(N, K, C, H, W\) = \(2, K, 3, 4, 4\)/);
      expect(() => contrastiveLoss(a, p, rand([1, 2, 3, 4, 4]))).toThrow(/negatives must be/);
    });
  });
});

describe('ContrastiveRegularizer (eq. 11)', () => {
  const spec = (p: Partial<PositiveSpec>, n: Partial<NegativeSpec>) => ({
    positives: { sharpened: 2, sharpen: { ...DEFAULT_SHARPEN }, teacher: false, gt: true, ...p },
    negatives: { blurred: 2, blur: { ...DEFAULT_BLUR }, lr: true, others: 0, othersSource: 'hr' as const, ...n },
  });

  /** eq. 11 through contrastiveLoss on E's taps of explicitly built samples. */
  function reference(e: ReturnType<typeof createEmbedding>, sr: Tensor, pos: Tensor[], neg: Tensor[], tau: number): Tensor {
    const n = sr.shape[0]!;
    const taps = e.taps(sr);
    const stack = (xs: Tensor[]) => {
      const t = noGrad(() => e.taps(cat(xs, 0)));
      // Rows are sample-major (all images of sample 0, then sample 1 ...): regroup to (N, K, ...).
      return t.map((f) => {
        const [, c, h, w] = f.shape as number[];
        const k = xs.length;
        const rows = split(f, 1, 0);
        const ordered = Array.from({ length: n * k }, (_, r) => rows[(r % k) * n + Math.floor(r / k)]!);
        return reshape(cat(ordered, 0), [n, k, c!, h!, w!]);
      });
    };
    const P = stack(pos);
    const Q = stack(neg);
    return mean(cat(taps.map((t, l) => contrastiveLoss(t, P[l]!, Q[l]!, { tau })), 0));
  }

  it('equals the mean over layers of contrastiveLoss on the same samples, and so does its gradient; chunking changes nothing', () => {
    const e = createEmbedding({ widths: [4, 6, 8, 8], headHidden: 8, headOut: 4 }, { seed: 3 }).freeze();
    const before = memory().tensors;
    tidy(() => {
      const hr = rand([3, 3, 16, 16], { generator: new Generator(11) });
      const lr = rand([3, 3, 8, 8], { generator: new Generator(12) });
      const srLeaf = rand([3, 3, 16, 16], { generator: new Generator(13) }).requiresGrad_();
      const o = { tau: 0.5, chunk: 1000, ...spec({}, {}) };
      const reg = new ContrastiveRegularizer(e, null, o);
      // The samples it draws, drawn again from the same generator state.
      const sets = reg.samples(hr, lr, new Generator(21));
      const pos = sets.filter((s) => s.role === 'pos');
      const neg = sets.filter((s) => s.role === 'neg');
      // Per-sample tensors (N, 3, H, W): set k's j-th sample of every image.
      const perSample = (ss: typeof sets) => ss.flatMap((s) => {
        const rows = split(s.images, 1, 0);
        return Array.from({ length: s.perImage }, (_, j) => cat(Array.from({ length: 3 }, (_, i) => rows[i * s.perImage + j]!), 0));
      });
      const ref = reference(e, srLeaf, perSample(pos), perSample(neg), 0.5);
      ref.backward();
      const gRef = srLeaf.grad!.toFloat64Array();
      srLeaf.grad!.dispose();
      srLeaf.grad = null;
      const got = reg.compute(srLeaf, hr, lr, new Generator(21));
      expect(got.item()).toBeCloseTo(ref.item(), 5);
      got.backward();
      expectClose(srLeaf.grad!.toFloat64Array(), gRef, 2e-4, 'gradient to sr');
      // One image per pass through E: the same loss and gradient.
      const g1 = srLeaf.grad!.toFloat64Array();
      srLeaf.grad!.dispose();
      srLeaf.grad = null;
      const chunked = new ContrastiveRegularizer(e, null, { ...o, chunk: 1 }).compute(srLeaf, hr, lr, new Generator(21));
      expect(chunked.item()).toBeCloseTo(got.item(), 6);
      chunked.backward();
      expectClose(srLeaf.grad!.toFloat64Array(), g1, 1e-5, 'chunked gradient');
    });
    expect(memory().tensors).toBe(before);
    e.dispose();
  });

  it('passes finite differences in float64 (the fused gradient of the whole term)', () => {
    const e = createEmbedding({ widths: [3, 4, 4, 4], headHidden: 4, headOut: 4 }, { seed: 6, dtype: 'float64' }).freeze();
    const hr = rand([2, 3, 8, 8], { generator: new Generator(1), dtype: 'float64' });
    const lr = rand([2, 3, 4, 4], { generator: new Generator(2), dtype: 'float64' });
    const reg = new ContrastiveRegularizer(e, null, { tau: 0.5, chunk: 4, ...spec({}, { others: 1 }) });
    const sr = randLeaf([2, 3, 8, 8], 3, { scale: 0.2, shift: 0.5 });
    gradcheck((x) => reg.compute(x, hr, lr, new Generator(9)), [sr], { atol: 1e-7, rtol: 1e-5 });
    for (const t of [hr, lr, sr]) t.dispose();
    e.dispose();
  });

  it('crop (beyond docs/model.md): the same as the regulariser on the window it draws; no gradient outside it', () => {
    const e = createEmbedding({ widths: [4, 4, 4, 4], headHidden: 4, headOut: 4 }, { seed: 2 }).freeze();
    tidy(() => {
      const hr = rand([2, 3, 16, 16], { generator: new Generator(1) });
      const lr = rand([2, 3, 8, 8], { generator: new Generator(2) });
      const sr = rand([2, 3, 16, 16], { generator: new Generator(3) }).requiresGrad_();
      const o = { tau: 1, chunk: 64, scale: 2, ...spec({}, {}) };
      const got = new ContrastiveRegularizer(e, null, { ...o, crop: 8 }).compute(sr, hr, lr, new Generator(4));
      got.backward();
      const g = sr.grad!.toFloat64Array();
      const rng = new Generator(4);
      const top = 2 * rng.nextInt(5);
      const left = 2 * rng.nextInt(5);
      const srC = cropHW(sr, top, left, 8, 8);
      const ref = new ContrastiveRegularizer(e, null, o).compute(srC, cropHW(hr, top, left, 8, 8), cropHW(lr, top / 2, left / 2, 4, 4), rng);
      expect(got.item()).toBeCloseTo(ref.item(), 6);
      sr.grad!.dispose();
      sr.grad = null;
      ref.backward();
      expectClose(sr.grad!.toFloat64Array(), g, 1e-5, 'gradient');
      for (let c = 0; c < 6; c++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
        if (y >= top && y < top + 8 && x >= left && x < left + 8) continue;
        expect(g[(c * 16 + y) * 16 + x]).toBe(0);
      }
      expect(() => new ContrastiveRegularizer(e, null, { ...o, crop: 7 }).compute(sr, hr, lr, new Generator(4))).toThrow(/crop 7 must be a multiple of the scale 2/);
    });
    e.dispose();
  });

  it('other images of the batch as negatives; errors for impossible sets', () => {
    const e = createEmbedding({ widths: [4, 4, 4, 4], headHidden: 4, headOut: 4 }, { seed: 1 }).freeze();
    tidy(() => {
      const hr = rand([3, 3, 8, 8], { generator: new Generator(1) });
      const lr = rand([3, 3, 4, 4], { generator: new Generator(2) });
      const reg = new ContrastiveRegularizer(e, null, { tau: 1, chunk: 8, ...spec({ sharpened: 0 }, { blurred: 0, lr: false, others: 5 }) });
      const sets = reg.samples(hr, lr, new Generator(3));
      expect(sets.map((s) => [s.role, s.perImage])).toEqual([['pos', 1], ['neg', 2]]);
      expect(Number.isFinite(reg.compute(hr, hr, lr, new Generator(3)).item())).toBe(true);
      expect(() => reg.compute(split(hr, 1, 0)[0]!, split(hr, 1, 0)[0]!, split(lr, 1, 0)[0]!, new Generator(3))).toThrow(/no negatives for a batch of 1/);
      expect(() => new ContrastiveRegularizer(e, null, { tau: 1, chunk: 8, ...spec({ teacher: true }, {}) })).toThrow(/teacher positive needs a teacher network/);
      expect(() => new ContrastiveRegularizer(e, null, { tau: 1, chunk: 8, ...spec({ sharpened: 0, gt: false }, {}) })).toThrow(/no positives/);
      expect(() => reg.compute(hr, add(lr, 0), lr, new Generator(3))).toThrow(/must have the same \(N, 3, H, W\) shape/);
    });
    e.dispose();
  });
});
