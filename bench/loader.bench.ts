// Loader throughput: batches of 32 LR 48×48 patches at ×4 (HR 192×192) from the shared photographs
// with on-the-fly degradation (the first-order defaults and the two-pass "realesrgan" preset),
// decoded images cached, on 1 and 2 worker threads; against the time of one training step of the
// default model at the same batch, and the time a training loop actually waits for data when the
// two run together. The issue's bar: the loader keeps ahead of a training step.
//
// npm run bench -- loader [--quick]   (quick: fewer batches, and the step timed at batch 4 × 8)
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Generator, getNumThreads, rand, tidy, type Tensor } from '../lib/index.js';
import type { Batch } from '../lib/data/dataset.js';
import { DataLoader } from '../lib/data/loader.js';
import { createDataset, validateDatasetSpec } from '../lib/data/registry.js';
import '../lib/data/image-folder.js';
import { createModel } from '../lib/models/mpfnet/mpfnet.js';
import { l1Loss } from '../lib/ops/index.js';
import { Adam } from '../lib/optim/adam.js';
import { machineInfo, writeJsonAtomic } from './harness.js';
import { packageRoot } from '../bindings/index.js';

export const group = 'loader';

const BATCH = 32;
const PATCH = 48;
const SCALE = 4;
/** The repository's photographs large enough for 192×192 HR crops (text.png is 172 pixels high): the
 * bundled ones (data/images) and the test ones (test/fixtures/images); attribution in NOTICE.md. */
const PHOTOS = ['data/images/camera.png', 'data/images/chelsea.png', 'data/images/coffee.png', 'test/fixtures/images/astronaut.png', 'test/fixtures/images/brick.png', 'test/fixtures/images/gravel.png'];

function dispose(b: Batch): void {
  b.lr.dispose();
  b.hr.dispose();
}

interface ThroughputRow {
  degradation: string;
  workers: number;
  firstBatchMs: number;
  msPerBatch: number;
  patchesPerSecond: number;
}

async function throughput(degradation: unknown, label: string, workers: number, batches: number): Promise<ThroughputRow> {
  const files = PHOTOS.map((f) => join(packageRoot(), f));
  const spec = validateDatasetSpec({ type: 'images', files, degradation, cache: true }, 'bench');
  const ds = await createDataset(spec, { scale: SCALE, patch: PATCH, augment: true, split: 'train', baseDir: process.cwd() });
  const loader = new DataLoader(ds, { batch: BATCH, seed: 1, workers, prefetch: 2 });
  try {
    const t0 = performance.now();
    dispose(loader.next());
    const t1 = performance.now();
    for (let b = 0; b < batches; b++) dispose(loader.next());
    const t2 = performance.now();
    const msPerBatch = (t2 - t1) / batches;
    return { degradation: label, workers, firstBatchMs: t1 - t0, msPerBatch, patchesPerSecond: (1000 * BATCH) / msPerBatch };
  } finally {
    await loader.close();
    await (ds as { close?: () => Promise<void> }).close?.();
  }
}

interface Trainer {
  step(lr: Tensor, hr: Tensor): void;
  dispose(): void;
}

function trainer(): Trainer {
  const model = createModel({ scale: SCALE }, { seed: 1 });
  const opt = new Adam(model.parameters(), { lr: 1e-4 });
  return {
    step(lr, hr) {
      tidy(() => {
        opt.zeroGrad();
        l1Loss(model.forward(lr), hr).backward();
      });
      opt.step();
    },
    dispose() {
      opt.dispose();
      model.dispose();
    },
  };
}

/** One training step of the default ×4 model at `batch` (after a batch-1 warm-up step). */
function stepMs(batch: number): number {
  const t = trainer();
  try {
    const warm = [rand([1, 3, PATCH, PATCH], { generator: new Generator(2) }), rand([1, 3, SCALE * PATCH, SCALE * PATCH], { generator: new Generator(3) })];
    t.step(warm[0]!, warm[1]!);
    warm.forEach((x) => x.dispose());
    const lr = rand([batch, 3, PATCH, PATCH], { generator: new Generator(4) });
    const hr = rand([batch, 3, SCALE * PATCH, SCALE * PATCH], { generator: new Generator(5) });
    const t0 = performance.now();
    t.step(lr, hr);
    const ms = performance.now() - t0;
    lr.dispose();
    hr.dispose();
    return ms;
  } finally {
    t.dispose();
  }
}

/** Real steps fed by the loader: how long next() blocks once the loop runs (the first batch excluded). */
async function overlapped(steps: number, workers: number): Promise<{ steps: number; meanStepMs: number; meanWaitMs: number; maxWaitMs: number }> {
  const files = PHOTOS.map((f) => join(packageRoot(), f));
  const ds = await createDataset(validateDatasetSpec({ type: 'images', files, degradation: 'realesrgan', cache: true }, 'bench'), {
    scale: SCALE,
    patch: PATCH,
    augment: true,
    split: 'train',
    baseDir: process.cwd(),
  });
  const loader = new DataLoader(ds, { batch: BATCH, seed: 1, workers, prefetch: 2 });
  const t = trainer();
  const waits: number[] = [];
  const stepTimes: number[] = [];
  try {
    let b = loader.next();
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      t.step(b.lr, b.hr);
      dispose(b);
      const t1 = performance.now();
      b = loader.next();
      waits.push(performance.now() - t1);
      stepTimes.push(t1 - t0);
    }
    dispose(b);
  } finally {
    t.dispose();
    await loader.close();
    await (ds as { close?: () => Promise<void> }).close?.();
  }
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  return { steps, meanStepMs: mean(stepTimes), meanWaitMs: mean(waits), maxWaitMs: Math.max(...waits) };
}

export async function run(o: { quick: boolean }): Promise<void> {
  const batches = o.quick ? 3 : 8;
  const rows: ThroughputRow[] = [];
  const presets: [string, unknown][] = o.quick ? [['first-order', {}]] : [['first-order', {}], ['realesrgan', 'realesrgan']];
  for (const [label, deg] of presets) for (const workers of [1, 2]) rows.push(await throughput(deg, label, workers, batches));
  console.log(`\n${group}: batches of ${BATCH} LR ${PATCH}×${PATCH} ×${SCALE} patches, degradation on, decoded images cached`);
  console.table(rows.map((r) => ({ degradation: r.degradation, workers: r.workers, 'first batch ms': r.firstBatchMs.toFixed(0), 'ms / batch': r.msPerBatch.toFixed(0), 'patches / s': r.patchesPerSecond.toFixed(0) })));

  let step: { batch: number; ms: number; estimatedForBatch32Ms: number; note: string } | { error: string };
  try {
    const b = o.quick ? 4 : BATCH;
    const ms = stepMs(b);
    step = { batch: b, ms, estimatedForBatch32Ms: (ms * BATCH) / b, note: b === BATCH ? 'measured at batch 32' : `measured at batch ${b}, scaled linearly to 32` };
    console.log(`training step of the default ×4 model: ${ms.toFixed(0)} ms at batch ${b}${b === BATCH ? '' : ` (≈ ${((ms * BATCH) / b).toFixed(0)} ms at batch 32)`}, ${getNumThreads()} threads`);
  } catch (e) {
    step = { error: (e as Error).message };
    console.log(`training step not measured: ${(e as Error).message}`);
  }

  let overlap: Awaited<ReturnType<typeof overlapped>> | { error: string } | null = null;
  if (!o.quick && !('error' in step)) {
    try {
      overlap = await overlapped(3, 2);
      console.log(`training loop fed by the loader (2 workers, realesrgan): step ${overlap.meanStepMs.toFixed(0)} ms, next() waited ${overlap.meanWaitMs.toFixed(1)} ms on average (max ${overlap.maxWaitMs.toFixed(1)} ms)`);
    } catch (e) {
      overlap = { error: (e as Error).message };
    }
  }

  const path = join(packageRoot(), 'bench', 'results', `${group}.json`);
  writeJsonAtomic(path, { group, machine: machineInfo(), options: { batch: BATCH, patch: PATCH, scale: SCALE, batches, quick: o.quick }, throughput: rows, trainStep: step, overlap });
  console.log(`wrote ${path}`);
}

// Allow `node dist/bench/loader.bench.js` directly as well as through run.ts.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await run({ quick: process.argv.includes('--quick') });
