// Training (lib/train/): config validation, the deterministic batcher, a short real training run
// (the loss falls, memory stays flat) and kill -9 + --resume ending bitwise where an uninterrupted
// run ends (the CLI as a child process).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchSampler, InMemoryDataset, PatchDataset, type Batch } from '../lib/data/dataset.js';
import { memory } from '../lib/memory.js';
import { Generator } from '../lib/random.js';
import { tensor } from '../lib/ops/creation.js';
import { applyOverrides, loadTrainConfig, resolveTrainConfig } from '../lib/train/config.js';
import { readJsonl } from '../lib/train/log.js';
import { train, type TrainEvent } from '../lib/train/trainer.js';
import { readSafetensors } from '../lib/io/safetensors.js';
import { loadModel } from '../lib/models/mpfnet/mpfnet.js';
import { cleanupCli, repoRoot, runCli, spawnCli } from './helpers/cli.js';
import { formatDuration } from '../lib/cli/common.js';
import { ProgressPrinter } from '../lib/cli/commands/train.js';

const dir = mkdtempSync(join(tmpdir(), 'mpfnet-train-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  cleanupCli();
});
const images = join(repoRoot, 'data', 'images');

describe('training config', () => {
  const base = { data: { train: { type: 'images', dir: 'imgs' } } };
  it('fills docs/model.md §2 defaults', () => {
    const c = resolveTrainConfig(base, '/x');
    expect(c.model.scale).toBe(4);
    expect(c.data).toMatchObject({ batch: 32, patch: 48, augment: true, val: null });
    expect(c.optimizer).toEqual({ betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
    expect(c.stages).toEqual([{ name: 'stage1', iters: 200000, lr: 1e-4, loss: { l1: { weight: 1, options: {} } }, schedule: { type: 'cosine', etaMin: 1e-7, warmup: 0, warmupStart: 1e-3, period: null, periodMult: 1 } }]);
    expect(c.ema).toEqual({ decay: 0.999, warmup: true });
    expect(c.baseDir).toBe('/x');
  });
  it.each([
    [{ ...base, model: { scale: 5 } }, /model: 'scale': must be one of 2, 3, 4, got 5/],
    [{ ...base, model: { channels: 0 } }, /model: 'channels': must be in 1\.\.4096, got 0/],
    [{ ...base, modle: {} }, /config: unknown field 'modle' \(did you mean 'model'\?\)/],
    [{ ...base, stages: [{ iters: 10, lr: 1e-4, schedul: 'cosine' }] }, /stages\[0\]: unknown field 'schedul' \(did you mean 'schedule'\?\)/],
    [{ ...base, stages: [{ iters: 0 }] }, /stages\[0\]\.iters: must be >= 1, got 0/],
    [{ ...base, stages: [{ lr: -1 }] }, /stages\[0\]\.lr: must be > 0, got -1/],
    [{ ...base, stages: [{ schedule: { type: 'linear' } }] }, /stages\[0\]\.schedule\.type: must be one of "cosine", "restarts", "constant", got "linear"/],
    [{ ...base, stages: [{ iters: 10, schedule: { warmup: 10 } }] }, /stages\[0\]\.schedule\.warmup: must be less than the stage's iters \(10\), got 10/],
    [{ ...base, stages: [{ loss: { l2: 1 } }] }, /stages\[0\]\.loss\.l2: unknown loss term \(known: l1/],
    [{ ...base, stages: [{ loss: { l1: 0 } }] }, /stages\[0\]\.loss\.l1: must be > 0/],
    [{ ...base, stages: [{ name: 'a' }, { name: 'a' }] }, /stages\[1\]\.name: duplicates/],
    [{ ...base, stages: [] }, /stages: must be a non-empty list/],
    [{ data: { train: { type: 'images', dir: 'x' }, batch: 0 } }, /data\.batch: must be in 1\.\.4096, got 0/],
    [{ data: { train: { type: 'imgs', dir: 'x' } } }, /data\.train\.type: must be one of "images"/],
    [{ data: { train: { type: 'images', folder: 'x' } } }, /data\.train: unknown field 'folder'/],
    [{ data: { train: { type: 'images' } } }, /data\.train: needs exactly one of 'dir' and 'files'/],
    [{}, /data: must be an object/],
    [{ ...base, ema: { decay: 1.5 } }, /ema\.decay: must be <= /],
    [{ ...base, checkpoint: { every: 10, keep: 0 } }, /checkpoint\.keep: must be >= 1, got 0/],
    [{ ...base, optimizer: { betas: [0.9] } }, /optimizer\.betas: must be \[beta1, beta2\]/],
    [{ ...base, seed: -1 }, /seed: must be in 0\.\./],
  ])('rejects %j naming the field', (raw, re) => {
    expect(() => resolveTrainConfig(raw)).toThrow(RangeError);
    expect(() => resolveTrainConfig(raw)).toThrow(re);
  });
  it('applies command-line overrides before validating', () => {
    const raw = { ...base, stages: [{ name: 'a', iters: 1000, lr: 1e-4, schedule: { type: 'cosine', warmup: 100 } }, { name: 'b', iters: 500 }] };
    const c = resolveTrainConfig(applyOverrides(raw, { iters: 50, lr: 2e-4, batch: 4, patch: 24, seed: 9, schedule: 'constant', out: '/o' }));
    expect(c.stages.map((s) => [s.iters, s.lr, s.schedule.type, s.schedule.warmup])).toEqual([[50, 2e-4, 'constant', 5], [50, 2e-4, 'constant', 0]]);
    expect([c.data.batch, c.data.patch, c.seed, c.out]).toEqual([4, 24, 9, '/o']);
    expect(() => resolveTrainConfig(applyOverrides(base, { schedule: 'cosin' }))).toThrow(/stages\[0\]\.schedule\.type/);
  });
  it('reads files, naming them in errors; relative paths resolve against the file', () => {
    const p = join(dir, 'c.json');
    writeFileSync(p, JSON.stringify(base));
    expect(loadTrainConfig(p).baseDir).toBe(dir);
    writeFileSync(p, '{"data": ');
    expect(() => loadTrainConfig(p)).toThrow(/c\.json: not valid JSON/);
    expect(() => loadTrainConfig(join(dir, 'none.json'))).toThrow(/cannot read the config .*none\.json: ENOENT/);
  });
});

describe('datasets', () => {
  const hr = (h: number, w: number, seed: number) => ({ data: Float32Array.from({ length: 3 * h * w }, (_, i) => ((i * 7919 + seed) % 101) / 100), channels: 3, height: h, width: w });

  it('the batcher is deterministic and resumable from its position alone', () => {
    const ds = new PatchDataset([{ hr: hr(40, 40, 1) }, { hr: hr(30, 50, 2) }, { hr: hr(36, 36, 3) }], { scale: 2, patch: 8, augment: true });
    // Batches are read, then disposed (a leak here would show up in the memory check below).
    const read = (b: Batch) => {
      const v = { lr: b.lr.toFloat32Array(), hr: b.hr.toFloat32Array(), shapes: [b.lr.shape, b.hr.shape] };
      b.lr.dispose();
      b.hr.dispose();
      return v;
    };
    const a = new BatchSampler(ds, { batch: 2, seed: 5 });
    const first = [read(a.next()), read(a.next()), read(a.next())];
    const b = new BatchSampler(ds, { batch: 2, seed: 5 });
    b.seek(4);
    const third = read(b.next());
    expect(third.hr).toEqual(first[2]!.hr);
    expect(third.shapes).toEqual([[2, 3, 8, 8], [2, 3, 16, 16]]);
    const c = new BatchSampler(ds, { batch: 2, seed: 6 });
    expect(read(c.next()).hr).not.toEqual(first[0]!.hr);
  });

  it('paired crops stay aligned through flips and rotations', () => {
    // LR = HR subsampled at the top-left of each 2×2 cell, so any aligned crop keeps that relation.
    const H = hr(24, 32, 9);
    const L = { data: new Float32Array(3 * 12 * 16), channels: 3, height: 12, width: 16 };
    for (let c = 0; c < 3; c++) for (let y = 0; y < 12; y++) for (let x = 0; x < 16; x++) L.data[(c * 12 + y) * 16 + x] = H.data[(c * 24 + 2 * y) * 32 + 2 * x]!;
    const ds = new PatchDataset([{ hr: H, lr: L }], { scale: 2, patch: 5, augment: true });
    for (let k = 0; k < 20; k++) {
      const s = ds.get(0, new Generator(k));
      const { lr, hr: h } = s;
      // After a flip or rotation the LR sample sits at another corner of its 2×2 cell: find it.
      const match = [0, 1].some((dy) => [0, 1].some((dx) => {
        for (let c = 0; c < 3; c++) for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) if (lr.data[(c * 5 + y) * 5 + x] !== h.data[(c * 10 + 2 * y + dy) * 10 + 2 * x + dx]) return false;
        return true;
      }));
      expect(match, `draw ${k}`).toBe(true);
    }
  });

  it('in-memory datasets of tensors', () => {
    const lr = tensor(Float32Array.from({ length: 2 * 3 * 4 * 4 }, (_, i) => i / 96), [2, 3, 4, 4]);
    const hr = tensor(Float32Array.from({ length: 2 * 3 * 8 * 8 }, (_, i) => i / 384), [2, 3, 8, 8]);
    const ds = new InMemoryDataset(lr, hr);
    expect(ds.length).toBe(2);
    expect(ds.get(1).lr.data[0]).toBeCloseTo(48 / 96, 6);
    expect(() => new InMemoryDataset(lr, [])).toThrow(/2 LR images but 0 HR/);
    lr.dispose();
    hr.dispose();
  });
});

function smallConfig(out: string, o: { iters: number; checkpointEvery?: number; extra?: Record<string, unknown> }) {
  return {
    model: { scale: 2, channels: 16, nCpb: 2 },
    seed: 1,
    out,
    data: { train: { type: 'images', dir: images }, batch: 4, patch: 16 },
    stages: [{ name: 'l1', iters: o.iters, lr: 1e-3, schedule: { type: 'cosine', etaMin: 1e-5 } }],
    validation: { every: 0 },
    checkpoint: { every: o.checkpointEvery ?? 0, keep: 2 },
    log: { every: 1 },
    ...o.extra,
  };
}

describe('training', () => {
  it('a C = 16, 2-CPB model trained 300 iterations lowers the L1 loss by at least 30%, memory flat', async () => {
    const out = join(dir, 'run300');
    const raw = smallConfig(out, { iters: 300, checkpointEvery: 100 });
    // Batches on this thread: data workers share the addon's live counters, and their in-flight
    // temporaries would blur the memory check (the kill -9 test below runs with workers).
    (raw.data as Record<string, unknown>).workers = 0;
    const config = resolveTrainConfig(raw);
    const live: number[] = [];
    const events: TrainEvent['type'][] = [];
    const r = await train(config, {
      onProgress: (e) => {
        events.push(e.type);
        if (e.type === 'iteration' && (e.iteration === 20 || e.iteration === 280)) live.push(memory().tensors, memory().bytes);
      },
    });
    expect(r.iteration).toBe(300);
    expect(r.aborted).toBe(false);
    const log = readJsonl(join(out, 'train.jsonl')).filter((e) => typeof e.loss === 'number') as unknown as { iteration: number; loss: number; lr: number; seconds: number }[];
    expect(log.map((e) => e.iteration)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const mean = (xs: { loss: number }[]) => xs.reduce((a, e) => a + e.loss, 0) / xs.length;
    const early = mean(log.slice(0, 20));
    const late = mean(log.slice(-20));
    console.log(`L1 loss: first 20 iterations ${early.toFixed(4)}, last 20 ${late.toFixed(4)} (${(100 * (1 - late / early)).toFixed(1)}% lower), ${r.seconds.toFixed(1)} s`);
    expect(late).toBeLessThanOrEqual(0.7 * early);
    // Cosine schedule from 1e-3 towards 1e-5.
    expect(log[0]!.lr).toBe(1e-3);
    expect(log[299]!.lr).toBeLessThan(2e-5);
    // Tensors and bytes are the same at iteration 20 and 280: every step frees what it made.
    expect(live[2]).toBe(live[0]);
    expect(live[3]).toBe(live[1]);
    expect(events[0]).toBe('start');
    expect(events.at(-1)).toBe('done');
    // Outputs: final weights + EMA (loadable), the last checkpoints, the config that ran.
    const m = loadModel(join(out, 'model.safetensors'));
    expect(m.config).toMatchObject({ scale: 2, channels: 16, nCpb: 2 });
    m.dispose();
    expect(readSafetensors(join(out, 'model-ema.safetensors')).metadata.weights).toBe('ema');
    expect(existsSync(join(out, 'checkpoints', 'iter-00000300.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'checkpoints', 'iter-00000100.safetensors'))).toBe(false); // keep: 2
    expect((JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { stages: { iters: number }[] }).stages[0]?.iters).toBe(300);
  });
});

describe('resume', () => {
  it('kill -9 mid-run, then --resume, ends with bitwise the same weights as an uninterrupted run', async () => {
    const cfg = (out: string) => {
      const p = join(dir, `${out}.json`);
      const c = smallConfig(join(dir, out), { iters: 0, checkpointEvery: 15 });
      // Two stages (a warm-up, then a constant lr with a weighted loss) and validation, so resume
      // must restore the stage, its schedule position, the EMA and the data position.
      c.stages = [
        { name: 'warm', iters: 40, lr: 1e-3, schedule: { type: 'cosine', warmup: 5, etaMin: 1e-5 } } as never,
        { name: 'flat', iters: 40, lr: 5e-4, schedule: { type: 'constant' }, loss: { l1: 2 } } as never,
      ];
      (c as Record<string, unknown>).validation = { every: 25, patch: 24 };
      (c.data as Record<string, unknown>).val = { type: 'images', files: [join(images, 'chelsea.png')] };
      writeFileSync(p, JSON.stringify(c));
      return p;
    };
    const env = { MPFNET_NUM_THREADS: '2' };
    const full = runCli(['train', '--config', cfg('full'), '--quiet'], { env });
    expect(full.status, full.stderr).toBe(0);

    const child = spawnCli(['train', '--config', cfg('cut')], { env });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += String(d)));
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_c, sig) => res(sig)));
    // Kill once iteration 52 is logged: after the checkpoints at 15, 30 and 45 and the stage change at 40.
    const logPath = join(dir, 'cut', 'train.jsonl');
    const t0 = Date.now();
    for (;;) {
      const its = existsSync(logPath) ? readJsonl(logPath).map((e) => e.iteration) : [];
      if (Math.max(0, ...its) >= 52) break;
      if (Date.now() - t0 > 240_000) throw new Error(`no progress: ${stdout}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(existsSync(join(dir, 'cut', 'model.safetensors'))).toBe(false);

    const resumed = runCli(['train', '--config', cfg('cut'), '--resume'], { env });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resuming from .*iter-00000045\.safetensors at iteration 45\/80/);
    for (const f of ['model.safetensors', 'model-ema.safetensors']) {
      const a = readSafetensors(join(dir, 'full', f)).tensors;
      const b = readSafetensors(join(dir, 'cut', f)).tensors;
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const [k, t] of a) expect(Buffer.from(b.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), `${f} ${k}`).toBe(true);
    }
    // The logs agree too (apart from timings): the resumed run rewrote the lines after iteration 45.
    const strip = (p: string) => readJsonl(p).map(({ seconds: _s, ...e }) => e);
    expect(strip(join(dir, 'cut', 'train.jsonl'))).toEqual(strip(join(dir, 'full', 'train.jsonl')));
  });

  it('reports a missing checkpoint and a model that does not match', () => {
    mkdirSync(join(dir, 'mismatch'), { recursive: true });
    const p = join(dir, 'mismatch.json');
    const c = smallConfig(join(dir, 'full'), { iters: 80 });
    c.model = { scale: 2, channels: 8, nCpb: 2 };
    writeFileSync(p, JSON.stringify(c));
    const r = runCli(['train', '--config', p, '--resume']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/resume: .*iter-00000080\.safetensors was written for model .*"channels":16/);
    const bad = runCli(['train', '--config', p, '--lr', 'fast']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--lr must be a number, got "fast"/);
    copyFileSync(p, join(dir, 'typo.json'));
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ ...c, stages: [{ iter: 5 }] }));
    const typo = runCli(['train', '--config', join(dir, 'typo.json')]);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/stages\[0\]: unknown field 'iter' \(did you mean 'iters'\?\)/);
  });
});

describe('progress output', () => {
  const it1 = (iteration: number): TrainEvent => ({ type: 'iteration', iteration, total: 100, stage: 'l1', loss: 0.05, losses: { l1: 0.05 }, lr: 1e-4, itPerSec: 2.5, etaSeconds: (100 - iteration) / 2.5, seconds: iteration / 2.5 });
  it('draws one redrawn bar with it/s and ETA on a terminal', () => {
    let out = '';
    const p = new ProgressPrinter(true, 10, (s) => (out += s));
    p.handle({ type: 'start', iteration: 0, total: 100, resumedFrom: null });
    p.handle(it1(1));
    p.handle(it1(50));
    expect(out).toMatch(/training 100 iterations\n/);
    // The bar redraws with the terminal's erase-line escape (ESC [2K).
    // eslint-disable-next-line no-control-regex
    expect(out).toMatch(/\r\x1b\[2K█{12}░{12} {2}50\.0% 50\/100 {2}2\.50 it\/s {2}ETA 00:20 {2}loss 0\.05000 {2}lr 1\.00e-4$/);
    p.handle({ type: 'validation', iteration: 50, psnr: 27.5, seconds: 1, weights: 'ema' });
    expect(out.endsWith('\r\x1b[2Kiter 50: validation PSNR 27.500 dB (ema weights, 1.0 s)\n')).toBe(true);
  });
  it('prints plain lines every N iterations otherwise', () => {
    let out = '';
    const p = new ProgressPrinter(false, 10, (s) => (out += s));
    for (let i = 1; i <= 100; i++) p.handle(it1(i));
    p.handle({ type: 'done', iteration: 100, total: 100, seconds: 3725, aborted: false });
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe('iter 10/100  l1  2.50 it/s  ETA 00:36  loss 0.05000  lr 1.00e-4');
    expect(lines[10]).toBe('done: 100 iterations in 1:02:05');
    expect(out).not.toMatch(/\r/);
    expect(formatDuration(Infinity)).toBe('--:--');
  });
});
