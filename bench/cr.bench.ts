// The cost of contrastive regularisation (lib/losses/regularizer.ts) against a stage-1 step, at the
// default sizes: the default ×4 MPF-Net, batch 1 and 4 of 48×48 LR patches (HR 192×192), E at docs/model.md's
// full width (64/128/256/512), docs/model.md's samples (3 sharpened + teacher + GT positives, 4 blurred +
// noised + upsampled-LR negatives). The target: a stage-2 step (L1 + CR) costs at most 1.5×
// a stage-1 step (L1). Also the phases of the CR term, so what dominates is visible:
//   samples   sharpened / blurred / LR-upsampled images (native kernels, imresize)
// and, beyond docs/model.md, a stage-2 step with the `crop` option (E on a 96×96 or 64×64 HR window).
//   teacher   the teacher MPF-Net's forward (noGrad)
//   E samples E's four taps for the 10 samples per image (noGrad, intermediates freed)
//   anchor    E's taps of the SR output, forward and backward to the SR output
//   similarity the per-pixel similarities and the anchor's gradient (cr_similarity kernels)
// Weights are random (timing does not depend on them). Results: bench/results/cr.json.
//
// npm run bench -- cr [--quick]
import { Generator, getNumThreads, noGrad, rand, tidy } from '../lib/index.js';
import { createEmbedding } from '../lib/models/embedding/checkpoint.js';
import { ContrastiveRegularizer } from '../lib/losses/regularizer.js';
import { DEFAULT_BLUR, DEFAULT_SHARPEN, blurredSamples, sharpenedSamples, upsampledLR } from '../lib/losses/samples.js';
import { createModel } from '../lib/models/mpfnet/mpfnet.js';
import { summary } from '../lib/models/mpfnet/summary.js';
import { add, cat, crSimilarity, crSimilarityAnchorGrad, l1Loss, mean, tensor } from '../lib/ops/index.js';
import { Adam } from '../lib/optim/adam.js';
import { machineInfo, writeJsonAtomic } from './harness.js';
import { packageRoot } from '../bindings/index.js';
import { join } from 'node:path';

export const group = 'cr';

const SCALE = 4;
const PATCH = 48;

function time(reps: number, fn: () => void): number {
  fn(); // warm-up (allocator caches, first-touch)
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

export async function run(o: { quick: boolean }): Promise<void> {
  const reps = o.quick ? 2 : 5;
  const model = createModel({ scale: SCALE }, { seed: 1 });
  const teacher = createModel({ scale: SCALE }, { seed: 2 });
  const e = createEmbedding({}, { seed: 3 }).freeze();
  const opt = new Adam(model.parameters(), { lr: 1e-4 });
  const reg = new ContrastiveRegularizer(e, teacher, {
    tau: 1,
    chunk: 16,
    positives: { sharpened: 3, sharpen: { ...DEFAULT_SHARPEN }, teacher: true, gt: true },
    negatives: { blurred: 4, blur: { ...DEFAULT_BLUR }, lr: true, others: 0, othersSource: 'hr' },
  });
  const hrSize = SCALE * PATCH;
  const eMacs = e.macs(hrSize, hrSize).taps;
  const mpfMacs = summary(model, [PATCH, PATCH], 1).macs;
  const rows: Record<string, unknown>[] = [];
  for (const batch of [1, 4]) {
    const lr = rand([batch, 3, PATCH, PATCH], { generator: new Generator(4) });
    const hr = rand([batch, 3, hrSize, hrSize], { generator: new Generator(5) });
    const rng = new Generator(6);
    const stage1 = time(reps, () => {
      tidy(() => {
        opt.zeroGrad();
        l1Loss(model.forward(lr), hr).backward();
      });
      opt.step();
    });
    const stage2 = time(reps, () => {
      tidy(() => {
        opt.zeroGrad();
        const sr = model.forward(lr);
        add(l1Loss(sr, hr), reg.compute(sr, hr, lr, rng)).backward();
      });
      opt.step();
    });
    // Beyond docs/model.md: E on a random crop × crop HR window (the `crop` option), what it buys.
    const cropped: Record<string, number> = {};
    for (const crop of [96, 64]) {
      const r = new ContrastiveRegularizer(e, teacher, { ...reg.options, crop, scale: SCALE });
      cropped[`crop${crop}`] = time(reps, () => {
        tidy(() => {
          opt.zeroGrad();
          const sr = model.forward(lr);
          add(l1Loss(sr, hr), r.compute(sr, hr, lr, rng)).backward();
        });
        opt.step();
      });
    }
    // The phases, one by one.
    const gen = time(reps, () => noGrad(() => tidy(() => {
      sharpenedSamples(hr, 3, reg.options.positives.sharpen, rng);
      blurredSamples(hr, 4, reg.options.negatives.blur, rng);
      upsampledLR(lr, [hrSize, hrSize]);
    })));
    const teacherFwd = time(reps, () => noGrad(() => tidy(() => void teacher.forwardImage(lr))));
    const pool = noGrad(() => tidy(() => cat(reg.samples(hr, lr, rng).map((s) => s.images), 0)));
    const perImage = pool.shape[0]! / batch;
    const eSamples = time(reps, () => noGrad(() => tidy(() => {
      // As the regulariser runs them: whole images' samples per pass, at most `chunk` images.
      const per = Math.max(1, Math.floor(16 / perImage)) * perImage;
      for (let i = 0; i < pool.shape[0]!; i += per) {
        const n = Math.min(per, pool.shape[0]! - i);
        const part = n === pool.shape[0] ? pool : tensor(pool.toFloat32Array().subarray(i * 3 * hrSize * hrSize, (i + n) * 3 * hrSize * hrSize), [n, 3, hrSize, hrSize]);
        for (const t of e.taps(part)) t.dispose();
        if (part !== pool) part.dispose();
      }
    })));
    const sr = rand([batch, 3, hrSize, hrSize], { generator: new Generator(7) });
    sr.requiresGrad = true;
    const anchorFwd = time(reps, () => tidy(() => void e.taps(sr)));
    const anchorFwdBwd = time(reps, () => tidy(() => {
      const taps = e.taps(sr);
      add(add(mean(taps[0]), mean(taps[1])), add(mean(taps[2]), mean(taps[3]))).backward();
      sr.grad?.dispose();
      sr.grad = null;
    }));
    const index = Array.from({ length: pool.shape[0]! }, (_, r) => r % batch);
    const similarity = noGrad(() => tidy(() => {
      const a = e.taps(sr);
      const b = e.taps(pool);
      return time(reps, () => tidy(() => {
        for (let l = 0; l < 4; l++) {
          const s = crSimilarity(a[l]!, b[l]!, index);
          crSimilarityAnchorGrad(a[l]!, b[l]!, index, s);
        }
      }));
    }));
    pool.dispose();
    sr.dispose();
    lr.dispose();
    hr.dispose();
    const overhead = stage2 / stage1 - 1;
    const flops = { stage1: 3 * 2 * mpfMacs * batch, eSamples: 2 * eMacs * perImage * batch, anchor: 2 * 2 * eMacs * batch, teacher: 2 * mpfMacs * batch };
    const row = {
      batch,
      stage1Ms: stage1,
      stage2Ms: stage2,
      overhead,
      phasesMs: { samples: gen, teacher: teacherFwd, eSamples, anchorForward: anchorFwd, anchorBackward: anchorFwdBwd - anchorFwd, similarity },
      gflops: { stage1: flops.stage1 / (stage1 * 1e6), eSamples: flops.eSamples / (eSamples * 1e6), anchor: flops.anchor / (anchorFwdBwd * 1e6), teacher: flops.teacher / (teacherFwd * 1e6) },
      samplesPerImage: perImage,
      cropStage2Ms: cropped,
      cropOverhead: Object.fromEntries(Object.entries(cropped).map(([k, v]) => [k, v / stage1 - 1])),
    };
    rows.push(row);
    console.log(`\ncr b${batch}: stage-1 step ${stage1.toFixed(0)} ms, stage-2 step ${stage2.toFixed(0)} ms: CR overhead ${(100 * overhead).toFixed(0)}% (target <= 50%)`);
    for (const [k, v] of Object.entries(cropped)) console.log(`  with ${k} (beyond docs/model.md): stage-2 step ${v.toFixed(0)} ms, overhead ${(100 * (v / stage1 - 1)).toFixed(0)}%`);
    console.table(Object.entries(row.phasesMs).map(([phase, ms]) => ({ phase, ms: ms.toFixed(1), 'share of CR': `${((100 * ms) / (stage2 - stage1)).toFixed(0)}%` })));
  }
  const path = join(packageRoot(), 'bench', 'results', 'cr.json');
  writeJsonAtomic(path, {
    group,
    machine: machineInfo(),
    threads: getNumThreads(),
    options: { quick: o.quick, reps },
    model: { scale: SCALE, patch: PATCH, macsPerImage: mpfMacs },
    embedding: { widths: e.config.widths, tapMacsPerImage: eMacs },
    // FLOP-count floor of the overhead: (10 sample passes + anchor forward and input-backward + the
    // teacher's forward) over a stage-1 step (forward + backward ≈ 3 forwards).
    flopOverheadFloor: (2 * eMacs * 10 + 4 * eMacs + 2 * mpfMacs) / (6 * mpfMacs),
    results: rows,
  });
  console.log(`wrote ${path}`);
  opt.dispose();
  reg.dispose();
  model.dispose();
}

export function cases(): never[] {
  return [];
}
