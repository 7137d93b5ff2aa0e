// The contrastive loss of one feature layer (the paper's eq. 10, docs/model.md §3), as an autograd function
// of the anchor, the positives and the negatives:
//   s(a, b) = mean over H×W of Σ_c â·b̂   (features L2-normalised along the channels per pixel)
//   L_i = (1/P) Σ_m −log( e^{s⁺_m/τ} / (e^{s⁺_m/τ} + Σ_n e^{s⁻_n/τ}) )
// averaged over the images. ContrastiveRegularizer (regularizer.ts) is the whole term of eq. 11,
// built on the same similarity kernel (native/cpu/cr_similarity.cc) and on infoNce() below.
import { add, cat, logSumExp, mean, mulScalar, reshape, sub, zeros } from '../ops/index.js';
import { crSimilarity, CR_NORM_EPS } from '../ops/cr-similarity.js';
import { Tensor } from '../tensor.js';

/** Options of {@link contrastiveLoss}. */
export interface ContrastiveLossOptions {
  /** Temperature τ (docs/model.md §3: default 1). */
  tau?: number;
  /** Norms below eps are clamped (torch.nn.functional.normalize's 1e-12). */
  eps?: number;
}

function checkTau(tau: number): void {
  if (typeof tau !== 'number' || !Number.isFinite(tau) || tau <= 0) throw new RangeError(`contrastiveLoss: tau must be a positive finite number, got ${String(tau)}`);
}

/**
 * Samples given as a list of (N, C, H, W) tensors, one per sample, stacked to (N, K, C, H, W)
 * (the same values, so the loss is bitwise the one of the stacked form).
 */
function stacked(x: unknown, what: string, anchor: readonly number[]): Tensor {
  const form = `(N, K, C, H, W) tensor or a non-empty array of (N, C, H, W) tensors (N, C, H, W = ${anchor.join(', ')})`;
  const describe = (v: unknown) => (v instanceof Tensor ? `a tensor [${v.shape.join(', ')}]` : Array.isArray(v) ? `an array of ${v.length}` : v === null ? 'null' : typeof v);
  if (x instanceof Tensor) return x;
  if (!Array.isArray(x) || x.length === 0) throw new TypeError(`contrastiveLoss: ${what} must be a ${form}, got ${describe(x)}`);
  const parts = x.map((t: unknown, k) => {
    if (!(t instanceof Tensor) || t.rank !== 4 || t.shape.some((d, i) => d !== anchor[i])) {
      throw new TypeError(`contrastiveLoss: ${what}[${k}] must be an (N, C, H, W) = (${anchor.join(', ')}) tensor like the anchor, got ${describe(t)}`);
    }
    return reshape(t, [anchor[0]!, 1, ...anchor.slice(1)]);
  });
  return parts.length === 1 ? parts[0]! : cat(parts, 1);
}

/**
 * Eq. 10 for one layer: anchor (N, C, H, W), positives (N, P, C, H, W), negatives (N, Q, C, H, W)
 * -> shape [1], the mean over images of each image's loss (itself the mean over its positives).
 * Positives and negatives may also be arrays of (N, C, H, W) tensors, one per sample.
 * Gradients reach all inputs.
 */
export function contrastiveLoss(anchor: Tensor, positives: Tensor | readonly Tensor[], negatives: Tensor | readonly Tensor[], o: ContrastiveLossOptions = {}): Tensor {
  const tau = o.tau ?? 1;
  checkTau(tau);
  if (!(anchor instanceof Tensor)) throw new TypeError(`contrastiveLoss: anchor must be an (N, C, H, W) tensor, got ${Array.isArray(anchor) ? 'an array' : typeof anchor}`);
  if (anchor.rank !== 4) throw new RangeError(`contrastiveLoss: anchor must be (N, C, H, W), got [${anchor.shape.join(', ')}]`);
  const [n, c, h, w] = anchor.shape as [number, number, number, number];
  positives = stacked(positives, 'positives', anchor.shape);
  negatives = stacked(negatives, 'negatives', anchor.shape);
  const check = (t: Tensor, what: string) => {
    if (t.rank !== 5 || t.shape[0] !== n || t.shape[2] !== c || t.shape[3] !== h || t.shape[4] !== w) {
      throw new RangeError(`contrastiveLoss: ${what} must be (N, K, C, H, W) = (${n}, K, ${c}, ${h}, ${w}) for the anchor's shape, got [${t.shape.join(', ')}]`);
    }
    return t.shape[1]!;
  };
  const p = check(positives, 'positives');
  const q = check(negatives, 'negatives');
  const eps = o.eps ?? CR_NORM_EPS;
  const rows = (k: number) => Array.from({ length: n * k }, (_, r) => Math.floor(r / k));
  const sp = crSimilarity(anchor, reshape(positives, [n * p, c, h, w]), rows(p), eps);
  const sn = crSimilarity(anchor, reshape(negatives, [n * q, c, h, w]), rows(q), eps);
  const lp = reshape(mulScalar(sp, 1 / tau), [n, p, 1]);
  const ln = reshape(mulScalar(sn, 1 / tau), [n, 1, q]);
  // Row (i, m) of the logits: [s⁺_m, s⁻_1 … s⁻_Q] / τ; the loss is logsumexp − s⁺_m/τ.
  const logits = cat([lp, add(ln, zeros([n, p, q], { dtype: anchor.dtype, device: anchor.device }))], 2);
  return sub(mean(logSumExp(logits, 2)), mean(lp));
}

/**
 * Eq. 10 for one image and layer on plain numbers, with its gradient: the similarities of the
 * positives and negatives -> the loss and ∂loss/∂s for each (float64, stable log-sum-exp).
 */
export function infoNce(pos: ArrayLike<number>, neg: ArrayLike<number>, tau: number): { loss: number; gPos: number[]; gNeg: number[] } {
  const P = pos.length;
  const gNeg = new Array<number>(neg.length).fill(0);
  const gPos = new Array<number>(P).fill(0);
  let loss = 0;
  let negMax = -Infinity;
  for (let j = 0; j < neg.length; j++) negMax = Math.max(negMax, neg[j]! / tau);
  for (let m = 0; m < P; m++) {
    const a = pos[m]! / tau;
    const mx = Math.max(a, negMax);
    const ea = Math.exp(a - mx);
    let z = ea;
    for (let j = 0; j < neg.length; j++) z += Math.exp(neg[j]! / tau - mx);
    loss += mx + Math.log(z) - a;
    gPos[m] = (ea / z - 1) / (P * tau);
    for (let j = 0; j < neg.length; j++) gNeg[j]! += Math.exp(neg[j]! / tau - mx) / z / (P * tau);
  }
  return { loss: loss / P, gPos, gNeg };
}
