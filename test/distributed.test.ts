// Data-parallel training over MPI (docs/distributed-training.md), with Open MPI's
// mpirun: 2 ranks × 1 thread end where 1 process ends (≤ 1e-5 relative); kill -9 of a rank stops
// the job and --resume continues under 2 ranks and under 1; a failing rank stops the job within
// 30 s naming itself; ranks with different configs are refused at start. Without mpirun this file
// FAILS: CI installs openmpi-bin and libopenmpi-dev (.ci/run).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchSampler, InMemoryDataset, type Sample } from '../lib/data/dataset.js';
import { DataLoader } from '../lib/data/loader.js';
import { createDataset, validateDatasetSpec } from '../lib/data/registry.js';
import '../lib/data/image-folder.js'; // registers the 'images' dataset type
import { detectLauncher, launchedDistributed } from '../lib/distributed/launcher.js';
import { readSafetensors } from '../lib/io/safetensors.js';
import { readJsonl } from '../lib/train/log.js';
import { buildCli, cleanupCli, cliEnv, repoRoot, runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'mpfnet-dist-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  cleanupCli();
});
const images = join(repoRoot, 'data', 'images');
const mpirunFound = spawnSync('mpirun', ['--version'], { encoding: 'utf8' }).status === 0;

function config(out: string, extra: Record<string, unknown> = {}): string {
  const p = join(dir, `${out}.json`);
  writeFileSync(p, JSON.stringify({
    model: { scale: 2, channels: 16, nCpb: 2 },
    seed: 3,
    out: join(dir, out),
    data: { train: { type: 'images', dir: images }, batch: 4, patch: 16, workers: 0 },
    stages: [{ name: 'l1', iters: 20, lr: 1e-3, schedule: { type: 'cosine', etaMin: 1e-5 } }],
    validation: { every: 0 },
    checkpoint: { every: 5, keep: 3 },
    log: { every: 1 },
    ...extra,
  }));
  return p;
}

/** mpirun arguments for `np` ranks of `mpfnet <args>` (each 1 thread); `:` separates MPMD parts. */
function mpirunArgs(parts: { np: number; args: string[] }[]): string[] {
  const cli = buildCli();
  const out = ['--oversubscribe', '--allow-run-as-root', '--bind-to', 'none', '-x', 'MPFNET_NUM_THREADS=1', '-x', 'MPFNET_ADDON'];
  parts.forEach((p, i) => out.push(...(i ? [':'] : []), '-np', String(p.np), process.execPath, cli, ...p.args));
  return out;
}

/** Run mpirun to completion; `seconds` is its wall time. */
function mpirun(parts: { np: number; args: string[] }[], timeoutMs = 120_000): Promise<{ status: number | null; stdout: string; stderr: string; seconds: number }> {
  const t0 = Date.now();
  const child = spawn('mpirun', mpirunArgs(parts), { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((res) => child.on('close', (status) => {
    clearTimeout(timer);
    res({ status, stdout, stderr, seconds: (Date.now() - t0) / 1000 });
  }));
}

/** ‖a − b‖ / ‖a‖ over every tensor of two safetensors files. */
function relativeDifference(a: string, b: string): number {
  const ta = readSafetensors(a).tensors;
  const tb = readSafetensors(b).tensors;
  expect([...tb.keys()]).toEqual([...ta.keys()]);
  let num = 0;
  let den = 0;
  for (const [k, t] of ta) {
    const u = tb.get(k)!.data;
    for (let i = 0; i < t.data.length; i++) {
      num += (t.data[i]! - u[i]!) ** 2;
      den += t.data[i]! ** 2;
    }
  }
  return Math.sqrt(num / den);
}

describe('launcher detection and batch shards (no MPI needed)', () => {
  it('reads Open MPI, Hydra, PMIx and Slurm variables', () => {
    expect(detectLauncher({})).toBeNull();
    expect(detectLauncher({ OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '4', OMPI_COMM_WORLD_LOCAL_RANK: '1' })).toMatchObject({ rank: 1, size: 4, localRank: 1 });
    expect(detectLauncher({ PMI_RANK: '0', PMI_SIZE: '2' })).toMatchObject({ rank: 0, size: 2 });
    expect(detectLauncher({ PMIX_RANK: '3' })).toMatchObject({ rank: 3, size: null });
    expect(detectLauncher({ SLURM_PROCID: '2', SLURM_NTASKS: '8', SLURM_LOCALID: '0' })).toMatchObject({ rank: 2, size: 8, localRank: 0 });
    expect(launchedDistributed(detectLauncher({ OMPI_COMM_WORLD_RANK: '0', OMPI_COMM_WORLD_SIZE: '1' }))).toBe(false);
    expect(launchedDistributed(detectLauncher({ PMIX_RANK: '0' }))).toBe(true);
  });

  it('N shards of a batch are exactly the batch one process draws, position global', () => {
    const n = 7;
    const imgs = Array.from({ length: n }, (_, i) => ({ data: Float32Array.from({ length: 12 }, (_, j) => i * 100 + j + 0.5), channels: 3, height: 2, width: 2 }));
    const ds = new InMemoryDataset(imgs, imgs);
    const key = (s: Sample) => Array.from(s.hr.data).join(',');
    const one = new BatchSampler(ds, { batch: 6, seed: 9 });
    const shards = [0, 1, 2].map((index) => new BatchSampler(ds, { batch: 6, seed: 9, shard: { index, count: 3 } }));
    for (let b = 0; b < 4; b++) {
      const whole = one.nextSamples().map(key);
      const parts = shards.flatMap((s) => s.nextSamples().map(key));
      expect(parts).toEqual(whole);
    }
    expect(shards.map((s) => s.position())).toEqual([24, 24, 24]);
    expect(() => new BatchSampler(ds, { batch: 6, seed: 9, shard: { index: 0, count: 4 } })).toThrow(/batch \(6\) must divide evenly over 4 processes/);
    expect(() => new BatchSampler(ds, { batch: 6, seed: 9, shard: { index: 3, count: 3 } })).toThrow(/shard\.index must be an integer in 0\.\.2, got 3/);
  });

  it('DataLoader shards on worker threads are the unsharded batches, and seek() stays global', async () => {
    const spec = validateDatasetSpec({ type: 'images', dir: images }, 'data.train');
    const ds = await createDataset(spec, { scale: 2, patch: 8, augment: true, split: 'train', baseDir: repoRoot });
    const one = new DataLoader(ds, { batch: 4, seed: 5, workers: 1 });
    const shards = [0, 1].map((index) => new DataLoader(ds, { batch: 4, seed: 5, workers: 1, shard: { index, count: 2 } }));
    try {
      const take = async (l: DataLoader) => {
        const b = await l.nextAsync();
        const hr = b.hr.toFloat32Array();
        b.lr.dispose();
        b.hr.dispose();
        return hr;
      };
      for (const s of shards) s.seek(8); // as a resume would: the global position
      one.seek(8);
      for (let i = 0; i < 2; i++) {
        const whole = await take(one);
        const parts = [await take(shards[0]!), await take(shards[1]!)];
        expect(Buffer.from(new Float32Array([...parts[0]!, ...parts[1]!]).buffer).equals(Buffer.from(whole.buffer))).toBe(true);
      }
      expect(shards.map((s) => s.position())).toEqual([16, 16]);
    } finally {
      for (const l of [one, ...shards]) await l.close();
    }
  });
});

describe('data-parallel training with mpirun', () => {
  it('mpirun is installed (CI: apt-get install openmpi-bin libopenmpi-dev)', () => {
    expect(mpirunFound, 'mpirun not found: install openmpi-bin and libopenmpi-dev, then rebuild the addon (npm rebuild)').toBe(true);
  });

  it('2 ranks × 1 thread end with the weights of 1 process (≤ 1e-5 relative)', async () => {
    const one = runCli(['train', '-c', config('one'), '--quiet'], { env: { MPFNET_NUM_THREADS: '1' } });
    expect(one.status, one.stderr).toBe(0);
    const two = await mpirun([{ np: 2, args: ['train', '-c', config('two'), '--quiet'] }]);
    expect(two.status, two.stderr + two.stdout).toBe(0);
    for (const f of ['model.safetensors', 'model-ema.safetensors']) {
      const rel = relativeDifference(join(dir, 'one', f), join(dir, 'two', f));
      console.log(`distributed: ${f}: 2 ranks vs 1 process, relative L2 difference ${rel.toExponential(2)}`);
      expect(rel).toBeLessThanOrEqual(1e-5);
    }
    // Rank 0 alone logs: one line per iteration, the loss of the global batch.
    const a = readJsonl(join(dir, 'one', 'train.jsonl'));
    const b = readJsonl(join(dir, 'two', 'train.jsonl'));
    expect(b.map((e) => e.iteration)).toEqual(a.map((e) => e.iteration));
    for (const [i, e] of b.entries()) expect(Math.abs((e.loss as number) - (a[i]!.loss as number))).toBeLessThan(1e-5);
  });

  it('kill -9 of a rank stops the job within 30 s; --resume with 2 ranks and with 1 rank both finish', async () => {
    const child = spawn('mpirun', mpirunArgs([{ np: 2, args: ['train', '-c', config('cut'), '--quiet'] }]), { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    const log = join(dir, 'cut', 'train.jsonl');
    const t0 = Date.now();
    for (;;) {
      const its = existsSync(log) ? readJsonl(log).map((e) => e.iteration) : [];
      if (Math.max(0, ...its) >= 12) break;
      if (Date.now() - t0 > 90_000) throw new Error(`no progress: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // The ranks are mpirun's children; kill the last one (rank 1).
    const ranks = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').map(Number);
    expect(ranks.length).toBe(2);
    const killedAt = Date.now();
    process.kill(Math.max(...ranks), 'SIGKILL');
    const code = await exited;
    const seconds = (Date.now() - killedAt) / 1000;
    console.log(`distributed: mpirun exited ${code} ${seconds.toFixed(1)} s after kill -9 of a rank`);
    expect(code).not.toBe(0);
    expect(seconds).toBeLessThan(30);
    expect(existsSync(join(dir, 'cut', 'model.safetensors'))).toBe(false);

    cpSync(join(dir, 'cut'), join(dir, 'cut1'), { recursive: true });
    const two = await mpirun([{ np: 2, args: ['train', '-c', config('cut'), '--resume'] }]);
    expect(two.status, two.stderr).toBe(0);
    expect(two.stdout).toMatch(/resuming from .*iter-000000(10|15)\.safetensors/);
    const one = runCli(['train', '-c', config('cut1'), '--resume'], { env: { MPFNET_NUM_THREADS: '1' } });
    expect(one.status, one.stderr).toBe(0);
    expect(one.stderr).toMatch(/written by 2 process\(es\), this job has 1/);
    for (const out of ['cut', 'cut1']) {
      const rel = relativeDifference(join(dir, 'one', 'model.safetensors'), join(dir, out, 'model.safetensors'));
      console.log(`distributed: resumed (${out === 'cut' ? '2 ranks' : '1 rank'}) vs uninterrupted 1 process: relative L2 difference ${rel.toExponential(2)}`);
      expect(rel).toBeLessThanOrEqual(1e-5);
    }
  });

  it('a rank that fails stops mpirun (non-zero, within 30 s) naming the rank and cause', async () => {
    const good = config('fail');
    const bad = config('fail-bad', { data: { train: { type: 'images', dir: join(dir, 'no-such-folder') }, batch: 4, patch: 16, workers: 0 } });
    const r = await mpirun([{ np: 1, args: ['train', '-c', good, '--quiet'] }, { np: 1, args: ['train', '-c', bad, '--quiet'] }]);
    console.log(`distributed: a failing rank stopped mpirun in ${r.seconds.toFixed(1)} s (exit ${r.status})`);
    expect(r.status).not.toBe(0);
    expect(r.seconds).toBeLessThan(30);
    expect(r.stderr).toMatch(/rank 1 of 2 failed: .*no-such-folder/);
  });

  it('ranks with different configs are refused at start with a clear error', async () => {
    const r = await mpirun([{ np: 1, args: ['train', '-c', config('mis'), '--quiet'] }, { np: 1, args: ['train', '-c', config('mis'), '--quiet', '--lr', '2e-3'] }]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/rank 1 has a different training config than rank 0/);
  });

  it('a global batch that does not divide over the ranks is a RangeError', async () => {
    const r = await mpirun([{ np: 3, args: ['train', '-c', config('div'), '--quiet'] }]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/data\.batch \(4\) must divide evenly over the 3 processes/);
  });
});
