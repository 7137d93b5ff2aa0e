// The contrastive regularisation term L_CR of the paper's eq. 11 (docs/model.md §3):
//   L_CR = 1/(S·L) Σ_i Σ_l L_{i,l},  L_{i,l} = eq. 10 on layer l of E for image i
// E (a frozen SNResNet-18) sees the SR output (the anchor, with gradient) and the samples of
// samples.ts (without). Gradients reach the SR network only through the anchor.
//
// Cost and memory: the samples' features are never kept for backward. The anchor's taps are
// computed first (on the tape); then the samples go through E in chunks of whole images, under
// noGrad with every intermediate freed at once; while a chunk's features are alive, each layer's
// similarities, the eq. 10 losses and ∂L/∂s (infoNce) give the anchor's gradient for that chunk
// (crSimilarityAnchorGrad), accumulated per layer. The term is then one tape node whose inputs are
// the anchor's four taps and whose backward scales the stored gradients.
//
// Beyond docs/model.md (off by default): `crop` runs all of it on one random crop × crop HR window; E's cost
// is ~10 sample passes per image, which dominates (bench/cr.bench.ts), and falls with the area.
import { noGrad, tidy } from '../autograd/scope.js';
import { record } from '../autograd/tape.js';
import type { SNResNet18 } from '../models/embedding/snresnet18.js';
import type { MPFNet } from '../models/mpfnet/mpfnet.js';
import { add, cat, mulScalar, split, tensor } from '../ops/index.js';
import { crSimilarity, crSimilarityAnchorGrad, CR_NORM_EPS } from '../ops/cr-similarity.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { infoNce } from './contrastive.js';
import { blurredSamples, otherImages, sharpenedSamples, teacherSamples, upsampledLR, type CrBlurSpec, type SampleSet, type SharpenSpec } from './samples.js';

/** Which positive samples the contrastive term uses. */
export interface PositiveSpec {
  /** K_P: sharpened / high-pass versions of the HR image per image (default 3, docs/model.md §3). */
  sharpened: number;
  sharpen: SharpenSpec;
  /** The teacher's output (default yes, docs/model.md §3). */
  teacher: boolean;
  /** The ground truth itself (default yes, docs/model.md §3). */
  gt: boolean;
}

/** Which negative samples the contrastive term uses. */
export interface NegativeSpec {
  /** K_N: blurred + noised HR images per image (default 4, docs/model.md §3). */
  blurred: number;
  blur: CrBlurSpec;
  /** The LR image bicubic-upsampled to the HR size (default yes, docs/model.md §3). */
  lr: boolean;
  /** Other images of the batch per image (Table VII's "random batch samples"; capped at batch − 1). */
  others: number;
  /** What those other images are: their HR ('hr') or upsampled LR ('lr'). */
  othersSource: 'hr' | 'lr';
}

/** Options of {@link ContrastiveRegularizer}. */
export interface RegularizerOptions {
  /** Temperature τ of eq. 10 (default 1, docs/model.md §3). */
  tau: number;
  positives: PositiveSpec;
  negatives: NegativeSpec;
  /** At most this many sample images per pass through E (whole images' sets; at least one image). */
  chunk: number;
  /**
   * Beyond docs/model.md, off by default (null): E sees one random crop × crop window (HR pixels, a
   * multiple of the scale) of the SR output, the HR patch and their samples (the LR window for the
   * teacher and the upsampled LR), the same place for the whole batch: (crop / H)² of E's cost.
   */
  crop?: number | null;
  /** The SR scale (needed with crop, to cut the LR window). */
  scale?: number;
  eps?: number;
}

/** The h × w window at (top, left) of the last two axes of an NCHW tensor (autograd through split). */
export function cropHW(x: Tensor, top: number, left: number, h: number, w: number): Tensor {
  const cut = (t: Tensor, axis: number, at: number, len: number) => {
    const total = t.shape[axis]!;
    if (at === 0 && len === total) return t;
    const sizes = [at, len, total - at - len].filter((v) => v > 0);
    const pieces = split(t, sizes, axis);
    const keep = pieces[at > 0 ? 1 : 0]!;
    for (const p of pieces) if (p !== keep) p.dispose();
    return keep;
  };
  const rows = cut(x, 2, top, h);
  const out = cut(rows, 3, left, w);
  // The intermediate is on the tape when x needs a gradient; otherwise it is garbage now.
  if (rows !== x && rows !== out && !rows.requiresGrad) rows.dispose();
  return out;
}

/** Mean similarity of each kind of sample per layer, and the loss, of the last compute(). */
export interface RegularizerStats {
  loss: number;
  positive: number[];
  negative: number[];
}

interface RoleSet extends SampleSet {
  role: 'pos' | 'neg';
  /** Rows per image (every set has the same count for every image). */
  perImage: number;
}

/**
 * The contrastive regularization term L_CR (docs/model.md §3): samples, the frozen embedding network E and
 * the loss, as one tape node.
 */
export class ContrastiveRegularizer {
  readonly embedding: SNResNet18;
  readonly teacher: MPFNet | null;
  readonly options: RegularizerOptions;
  last: RegularizerStats | null = null;

  /** `embedding` is frozen here if it is not yet; the teacher is only ever run without gradient. */
  constructor(embedding: SNResNet18, teacher: MPFNet | null, o: RegularizerOptions) {
    if (!(o.tau > 0) || !Number.isFinite(o.tau)) throw new RangeError(`ContrastiveRegularizer: tau must be a positive finite number, got ${o.tau}`);
    if (!Number.isSafeInteger(o.chunk) || o.chunk < 1) throw new RangeError(`ContrastiveRegularizer: chunk must be a positive integer, got ${o.chunk}`);
    const p = o.positives;
    const n = o.negatives;
    if (p.sharpened + (p.teacher ? 1 : 0) + (p.gt ? 1 : 0) < 1) throw new RangeError('ContrastiveRegularizer: no positives (enable sharpened, teacher or gt)');
    if (n.blurred + (n.lr ? 1 : 0) + n.others < 1) throw new RangeError('ContrastiveRegularizer: no negatives (enable blurred, lr or others)');
    if (p.teacher && !teacher) throw new RangeError('ContrastiveRegularizer: the teacher positive needs a teacher network');
    this.embedding = embedding.frozen ? embedding : embedding.freeze();
    this.teacher = teacher;
    this.options = o;
  }

  /** The samples of a batch, positives first, in the order their random draws are made. */
  samples(hr: Tensor, lr: Tensor, rng: Generator): RoleSet[] {
    const { positives: p, negatives: q } = this.options;
    const n = hr.shape[0]!;
    const sets: RoleSet[] = [];
    const push = (role: 'pos' | 'neg', s: SampleSet) => sets.push({ ...s, role, perImage: s.source.length / n });
    const size: [number, number] = [hr.shape[2]!, hr.shape[3]!];
    if (p.sharpened) push('pos', sharpenedSamples(hr, p.sharpened, p.sharpen, rng));
    if (p.teacher) push('pos', teacherSamples(this.teacher!, lr));
    if (p.gt) push('pos', { images: hr, source: Array.from({ length: n }, (_, i) => i) });
    if (q.blurred) push('neg', blurredSamples(hr, q.blurred, q.blur, rng));
    let up: SampleSet | null = null;
    if (q.lr) {
      up = upsampledLR(lr, size);
      push('neg', up);
    }
    const others = Math.min(q.others, n - 1);
    if (others > 0) {
      const from = q.othersSource === 'hr' ? hr : (up ?? upsampledLR(lr, size)).images;
      push('neg', otherImages(from, others, rng));
    }
    if (!sets.some((s) => s.role === 'neg')) throw new RangeError(`ContrastiveRegularizer: no negatives for a batch of ${n} (the only ones configured are other images of the batch)`);
    return sets;
  }

  /**
   * L_CR for the SR batch sr (N, 3, H, W) against hr (same shape) and lr (N, 3, H/s, W/s), as a
   * one-element tensor on the tape (gradient to sr only). Draws from rng (resumable).
   */
  compute(sr: Tensor, hr: Tensor, lr: Tensor, rng: Generator): Tensor {
    if (sr.rank !== 4 || hr.rank !== 4 || sr.shape.some((d, i) => d !== hr.shape[i])) {
      throw new RangeError(`ContrastiveRegularizer: sr [${sr.shape.join(', ')}] and hr [${hr.shape.join(', ')}] must have the same (N, 3, H, W) shape`);
    }
    const crop = this.options.crop ?? null;
    if (crop !== null && crop < Math.min(sr.shape[2]!, sr.shape[3]!)) {
      const scale = this.options.scale ?? 1;
      if (crop % scale !== 0) throw new RangeError(`ContrastiveRegularizer: crop ${crop} must be a multiple of the scale ${scale}`);
      // Window positions on the LR grid, so the LR window covers the HR one exactly.
      const top = scale * rng.nextInt((sr.shape[2]! - crop) / scale + 1);
      const left = scale * rng.nextInt((sr.shape[3]! - crop) / scale + 1);
      const hrC = noGrad(() => cropHW(hr, top, left, crop, crop));
      const lrC = noGrad(() => cropHW(lr, top / scale, left / scale, crop / scale, crop / scale));
      try {
        return this.#compute(cropHW(sr, top, left, crop, crop), hrC, lrC, rng);
      } finally {
        if (hrC !== hr) hrC.dispose();
        if (lrC !== lr) lrC.dispose();
      }
    }
    return this.#compute(sr, hr, lr, rng);
  }

  #compute(sr: Tensor, hr: Tensor, lr: Tensor, rng: Generator): Tensor {
    const n = sr.shape[0]!;
    const taps = this.embedding.taps(sr);
    const layers = taps.length;
    const { tau } = this.options;
    const eps = this.options.eps ?? CR_NORM_EPS;
    const result = tidy(() =>
      noGrad(() => {
        const sets = this.samples(hr, lr, rng);
        const perImage = sets.reduce((a, s) => a + s.perImage, 0);
        const imagesPerPass = Math.max(1, Math.floor(this.options.chunk / perImage));
        const chunks: [number, number][] = [];
        for (let i = 0; i < n; i += imagesPerPass) chunks.push([i, Math.min(n, i + imagesPerPass)]);
        // Each set cut into the chunks' rows (sets are n-major with a fixed count per image).
        const pieces = chunks.length === 1 ? sets.map((s) => [s.images]) : sets.map((s) => split(s.images, chunks.map(([a, b]) => (b - a) * s.perImage), 0));
        let grads: Tensor[] | null = null;
        let loss = 0;
        const posSum = new Array<number>(layers).fill(0);
        const negSum = new Array<number>(layers).fill(0);
        let posCount = 0;
        let negCount = 0;
        chunks.forEach(([i0, i1], ci) => {
          const chunkGrads = tidy(() => {
            const parts = sets.map((_, k) => pieces[k]![ci]!);
            const pool = parts.length === 1 ? parts[0]! : cat(parts, 0);
            // The pieces are copies only when there are several chunks (never hr itself).
            if (chunks.length > 1) for (const t of parts) if (t !== pool) t.dispose();
            // Row r of the pool: its image and role.
            const index: number[] = [];
            const role: ('pos' | 'neg')[] = [];
            for (const s of sets) for (let i = i0; i < i1; i++) for (let k = 0; k < s.perImage; k++) {
              index.push(i);
              role.push(s.role);
            }
            posCount += role.filter((r) => r === 'pos').length;
            negCount += role.filter((r) => r === 'neg').length;
            const feats = this.embedding.taps(pool);
            if (parts.length > 1 || chunks.length > 1) pool.dispose();
            return feats.map((f, l) => {
              const s = crSimilarity(taps[l]!, f, index, eps).toFloat64Array();
              const gs = new Float64Array(index.length);
              for (let i = i0; i < i1; i++) {
                const rowsP: number[] = [];
                const rowsN: number[] = [];
                index.forEach((img, r) => img === i && (role[r] === 'pos' ? rowsP : rowsN).push(r));
                const t = infoNce(rowsP.map((r) => s[r]!), rowsN.map((r) => s[r]!), tau);
                loss += t.loss;
                rowsP.forEach((r, j) => ((gs[r] = t.gPos[j]! / (n * layers)), (posSum[l]! += s[r]!)));
                rowsN.forEach((r, j) => ((gs[r] = t.gNeg[j]! / (n * layers)), (negSum[l]! += s[r]!)));
              }
              const g = crSimilarityAnchorGrad(taps[l]!, f, index, tensor(gs, [gs.length], { dtype: f.dtype, device: f.device }), eps);
              f.dispose();
              return g;
            });
          });
          if (!grads) grads = chunkGrads;
          else {
            const prev: Tensor[] = grads;
            grads = prev.map((g, l) => add(g, chunkGrads[l]!));
            for (const t of [...prev, ...chunkGrads]) t.dispose();
          }
        });
        const perLayer = (sums: number[], count: number) => sums.map((v) => v / count);
        return { loss: loss / (n * layers), grads: grads!, stats: { positive: perLayer(posSum, posCount), negative: perLayer(negSum, negCount) } };
      }),
    );
    this.last = { loss: result.loss, ...result.stats };
    const out = tensor([result.loss], [1], { dtype: sr.dtype, device: sr.device });
    const grads = result.grads;
    return record(out, 'contrastiveRegularizer', taps, (gy) => {
      const g = gy.item();
      return grads.map((t) => mulScalar(t, g));
    });
  }

  /** Free E and the teacher. */
  dispose(): void {
    this.embedding.dispose();
    this.teacher?.dispose();
  }
}
