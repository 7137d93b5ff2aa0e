import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { createDataset, validateDatasetSpec, type DatasetContext } from '../lib/data/registry.js';
import '../lib/data/image-folder.js';
import { FileDataset } from '../lib/data/file-dataset.js';
import { BatchSampler, InMemoryDataset, SampleSchedule, collate, type Batch } from '../lib/data/dataset.js';
import { DataLoader } from '../lib/data/loader.js';
import { WorkerPool } from '../lib/data/worker-pool.js';
import { buildPaired, put, PHOTOS, photoPath } from './helpers/datasets.js';

const tmp = mkdtempSync(join(tmpdir(), 'mpfnet-loader-'));
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  rmSync(tmp, { recursive: true, force: true });
});

function loader(ds: mp.Dataset, o: ConstructorParameters<typeof DataLoader>[1]): DataLoader {
  const l = new DataLoader(ds, o);
  closers.push(() => l.close());
  return l;
}

async function dataset(spec: Record<string, unknown>, c: Partial<DatasetContext> = {}): Promise<FileDataset> {
  const ds = (await createDataset(validateDatasetSpec(spec, 'data.train'), { scale: 4, patch: 12, augment: true, split: 'train', baseDir: tmp, ...c })) as FileDataset;
  closers.push(() => ds.close());
  return ds;
}

/** Batch b of a run computed on this thread with getAsync: what every loader must reproduce. */
async function expectedBatches(ds: FileDataset, batch: number, seed: number, count: number, from = 0): Promise<{ lr: Float32Array; hr: Float32Array }[]> {
  const sched = new SampleSchedule(ds.length, seed);
  const out = [];
  for (let b = 0; b < count; b++) {
    const samples = [];
    for (let k = from + b * batch; k < from + (b + 1) * batch; k++) samples.push(await ds.getAsync(sched.index(k), sched.generator(k)));
    out.push(take(collate(samples)));
  }
  return out;
}

function take(b: Batch): { lr: Float32Array; hr: Float32Array; shapes: [readonly number[], readonly number[]] } & Record<string, unknown> {
  const r = { lr: b.lr.toFloat32Array(), hr: b.hr.toFloat32Array(), shapes: [b.lr.shape, b.hr.shape] as [readonly number[], readonly number[]] };
  b.lr.dispose();
  b.hr.dispose();
  return r;
}

let hrDir: string;
let pairedRoot: string;
beforeAll(async () => {
  hrDir = join(tmp, 'hr');
  for (const p of PHOTOS.slice(0, 3)) copyFileSync(photoPath(p), put(join(hrDir, p), ''));
  pairedRoot = join(tmp, 'paired');
  await buildPaired(pairedRoot, { scale: 4, size: 64 });
});

describe('DataLoader', () => {
  it('gives the same batches with 1 and 2 workers as on this thread, with degradation on', async () => {
    const ds = await dataset({ type: 'images', dir: hrDir, degradation: 'realesrgan' });
    // Batches of 4 from 3 images cross epoch boundaries (a new permutation each epoch).
    const want = await expectedBatches(ds, 4, 123, 3);
    for (const workers of [1, 2]) {
      const l = loader(ds, { batch: 4, seed: 123, workers });
      expect(l.workers).toBe(workers);
      for (let b = 0; b < 3; b++) {
        const got = take(l.next());
        expect(got.shapes).toEqual([[4, 3, 12, 12], [4, 3, 48, 48]]);
        expect(got.lr).toEqual(want[b]!.lr);
        expect(got.hr).toEqual(want[b]!.hr);
      }
      expect(l.position()).toBe(12);
    }
  });

  it('matches BatchSampler over the same dataset (paired, cached, workers keyed by image)', async () => {
    const ds = await dataset({ type: 'paired', root: pairedRoot, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png', cache: true }, { patch: 8 });
    const ref = new BatchSampler(ds, { batch: 3, seed: 9 });
    const want = [take(ref.next()), take(ref.next())];
    const l = loader(ds, { batch: 3, seed: 9, workers: 2, prefetch: 1 });
    for (const w of want) {
      const got = take(l.next());
      expect(got.lr).toEqual(w.lr);
      expect(got.hr).toEqual(w.hr);
    }
  });

  it('nextAsync() gives the same batches without blocking; seek() resumes at a sample position', async () => {
    const ds = await dataset({ type: 'images', dir: hrDir, degradation: { second: true } });
    const want = await expectedBatches(ds, 2, 5, 4);
    const l = loader(ds, { batch: 2, seed: 5, workers: 2 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const first = take(await l.nextAsync());
    clearInterval(timer);
    expect(first.lr).toEqual(want[0]!.lr);
    expect(ticks).toBeGreaterThan(0);
    l.seek(6);
    expect(l.position()).toBe(6);
    expect(take(l.next()).lr).toEqual(want[3]!.lr);
    l.seek(2);
    expect(take(await l.nextAsync()).hr).toEqual(want[1]!.hr);
    expect(l.position()).toBe(4);
  });

  it("reports a worker's error naming the file, and with skipBad its warning once", async () => {
    const root = join(tmp, 'bad');
    await buildPaired(root, { scale: 4, size: 64 });
    const hr = join(root, 'HR', 'img0.png');
    put(hr, readFileSync(hr).subarray(0, 300));
    const strict = await dataset({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png' }, { patch: 8 });
    const l = loader(strict, { batch: 4, seed: 1, workers: 2 });
    expect(() => l.next()).toThrow(/cannot read image '.*img0\.png'/);
    const warnings: string[] = [];
    const lenient = await dataset({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png', skipBad: true }, { patch: 8, onWarning: (m) => warnings.push(m) });
    const l2 = loader(lenient, { batch: 4, seed: 1, workers: 2 });
    for (let b = 0; b < 3; b++) take(l2.next());
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipping .*img0\.png/);
  });

  it('leaves the thread pool of this thread alone', async () => {
    const before = mp.getNumThreads();
    const ds = await dataset({ type: 'images', dir: hrDir, degradation: {} });
    const l = loader(ds, { batch: 2, seed: 0, workers: 2 });
    take(l.next());
    expect(mp.getNumThreads()).toBe(before);
  });

  it('falls back to BatchSampler on this thread for datasets that cannot run on workers', () => {
    const lr = mp.rand([5, 3, 4, 4], { generator: new mp.Generator(1) });
    const hr = mp.rand([5, 3, 16, 16], { generator: new mp.Generator(2) });
    const ds = new InMemoryDataset(lr, hr);
    lr.dispose();
    hr.dispose();
    const l = loader(ds, { batch: 2, seed: 3, workers: 2 });
    expect(l.workers).toBe(0);
    const ref = new BatchSampler(ds, { batch: 2, seed: 3 });
    expect(take(l.next()).lr).toEqual(take(ref.next()).lr);
  });

  it('a worker that cannot build its dataset fails with its error instead of hanging', async () => {
    const pool = new WorkerPool({ module: 'file:///nonexistent/dataset.js', exportName: 'Nope', args: [] }, 1, { startMs: 60_000 });
    try {
      expect(() => pool.runSync(0, { seed: 0, offset: 0 })).toThrow(/data worker failed: .*nonexistent/);
    } finally {
      await pool.close();
    }
  });

  it('a process that leaves with jobs in flight (no close()) exits cleanly once they finish', () => {
    // A child started the way the CLI tests start theirs (node --input-type=module -e), from sources.
    const url = (p: string) => pathToFileURL(join(__dirname, '..', p)).href;
    const code = `
      import { register } from 'node:module';
      register(${JSON.stringify(url('lib/workers/ts-worker-hooks.mjs'))});
      const { DataLoader } = await import(${JSON.stringify(url('lib/data/loader.ts'))});
      const { createDataset, validateDatasetSpec } = await import(${JSON.stringify(url('lib/data/registry.ts'))});
      await import(${JSON.stringify(url('lib/data/image-folder.ts'))});
      const ds = await createDataset(validateDatasetSpec({ type: 'images', dir: ${JSON.stringify(hrDir)}, degradation: 'realesrgan' }, 'd'),
        { scale: 4, patch: 12, augment: true, split: 'train', baseDir: '/' });
      const l = new DataLoader(ds, { batch: 4, seed: 1, workers: 2, prefetch: 3 });
      const b = l.next();
      console.log('batch', b.lr.shape.join('x'));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 120_000, env: process.env });
    expect(r.stderr).not.toMatch(/terminate called|Abort/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('batch 4x3x12x12');
  });

  it('validates its options', async () => {
    const ds = await dataset({ type: 'images', dir: hrDir });
    expect(() => new DataLoader(ds, { batch: 0, seed: 0 })).toThrow(/batch must be a positive integer/);
    expect(() => new DataLoader(ds, { batch: 1, seed: 0, workers: -1 })).toThrow(/workers must be an integer in 0..64/);
    expect(() => new DataLoader(ds, { batch: 1, seed: 0, prefetch: 1.5 })).toThrow(/prefetch must be an integer/);
  });
});
