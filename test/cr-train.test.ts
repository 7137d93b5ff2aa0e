// Stage 2 with contrastive regularisation (lib/train/loss-terms/cr.ts in the trainer) and the
// pretraining of E (lib/train/pretrain-embedding.ts, `mpfnet pretrain-embedding`): a 50-iteration
// stage-2 run of a small model on the shared images logs finite L1 and CR terms; kill -9 in stage 2
// then --resume ends with bitwise the same weights as an uninterrupted run; pretraining resumes
// exactly from any checkpoint; configs (Table VII's rows, the CR options) are validated strictly.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedding, saveEmbedding, loadEmbedding } from '../lib/models/embedding/checkpoint.js';
import { resolveTrainConfig } from '../lib/train/config.js';
import { readJsonl } from '../lib/train/log.js';
import { readSafetensors } from '../lib/io/safetensors.js';
import { resolvePretrainConfig, pretrainEmbedding } from '../lib/train/pretrain-embedding.js';
import { cleanupCli, repoRoot, runCli, spawnCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'mpfnet-cr-'));
const images = join(repoRoot, 'data', 'images');
const ePath = join(dir, 'e.safetensors');
// A narrow E keeps CI fast; the default (docs/model.md §3) is 64/128/256/512.
const E_CONFIG = { widths: [8, 8, 16, 16] as [number, number, number, number], headHidden: 16, headOut: 8 };

beforeAll(async () => {
  const e = createEmbedding(E_CONFIG, { seed: 4 });
  await saveEmbedding(e, ePath);
  e.dispose();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  cleanupCli();
});

function stage2Config(out: string, o: { checkpointEvery?: number; cr?: Record<string, unknown> } = {}) {
  return {
    model: { scale: 2, channels: 8, nCpb: 1 },
    seed: 3,
    out,
    data: { train: { type: 'images', dir: images, cache: true }, batch: 2, patch: 16, workers: 0 },
    stages: [
      { name: 'stage1', iters: 10, lr: 1e-3, loss: { l1: 1 } },
      { name: 'stage2', iters: 50, lr: 5e-4, loss: { l1: 1, cr: { weight: 1, embedding: ePath, ...o.cr } }, schedule: { type: 'cosine', etaMin: 1e-5 } },
    ],
    validation: { every: 0 },
    checkpoint: { every: o.checkpointEvery ?? 0, keep: 10 },
    log: { every: 1 },
  };
}

describe('stage 2: L1 + β·L_CR', () => {
  it('50 iterations on the shared images log finite L1 and CR terms; kill -9 + --resume ends bitwise where an uninterrupted run ends', async () => {
    const cfg = (name: string) => {
      const p = join(dir, `${name}.json`);
      writeFileSync(p, JSON.stringify(stage2Config(join(dir, name), { checkpointEvery: 10 })));
      return p;
    };
    const env = { MPFNET_NUM_THREADS: '2' };
    const t0 = Date.now();
    const full = runCli(['train', '--config', cfg('full'), '--quiet'], { env });
    expect(full.status, full.stderr).toBe(0);
    const seconds = (Date.now() - t0) / 1000;
    const log = readJsonl(join(dir, 'full', 'train.jsonl')) as unknown as { iteration: number; stage: string; losses: Record<string, number> }[];
    const s2 = log.filter((e) => e.stage === 'stage2');
    expect(s2.map((e) => e.iteration)).toEqual(Array.from({ length: 50 }, (_, i) => i + 11));
    // Both terms logged, finite and positive at every stage-2 iteration (undefined fails the check).
    const positive = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v > 0;
    for (const e of s2) {
      expect(positive(e.losses.l1), `l1 at ${e.iteration}`).toBe(true);
      expect(positive(e.losses.cr), `cr at ${e.iteration}`).toBe(true);
    }
    expect(log.filter((e) => e.stage === 'stage1').every((e) => e.losses.cr === undefined)).toBe(true);
    const first = s2[0]?.losses;
    const last = s2.at(-1)?.losses;
    console.log(`stage 2: L1 ${first?.l1?.toFixed(4)} -> ${last?.l1?.toFixed(4)}, CR ${first?.cr?.toFixed(4)} -> ${last?.cr?.toFixed(4)}; ${seconds.toFixed(1)} s for 60 iterations`);
    // The teacher: the model as stage 2 started, written once.
    expect(existsSync(join(dir, 'full', 'cr-teacher-stage2.safetensors'))).toBe(true);

    const child = spawnCli(['train', '--config', cfg('cut')], { env });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += String(d)));
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_c, sig) => res(sig)));
    const logPath = join(dir, 'cut', 'train.jsonl');
    const start = Date.now();
    for (;;) {
      const its = existsSync(logPath) ? readJsonl(logPath).map((e) => e.iteration) : [];
      if (Math.max(0, ...its) >= 33) break;
      if (Date.now() - start > 240_000) throw new Error(`no progress: ${stdout}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(existsSync(join(dir, 'cut', 'model.safetensors'))).toBe(false);
    const resumed = runCli(['train', '--config', cfg('cut'), '--resume'], { env });
    expect(resumed.status, resumed.stderr).toBe(0);
    const from = Number(/resuming from .*iter-(\d+)\.safetensors at iteration/.exec(resumed.stdout)?.[1]);
    expect(from).toBeGreaterThanOrEqual(30);
    expect(from).toBeLessThan(60);
    for (const f of ['model.safetensors', 'model-ema.safetensors']) {
      const a = readSafetensors(join(dir, 'full', f)).tensors;
      const b = readSafetensors(join(dir, 'cut', f)).tensors;
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const [k, t] of a) expect(Buffer.from(b.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), `${f} ${k}`).toBe(true);
    }
    const strip = (p: string) => readJsonl(p).map(({ seconds: _s, ...e }) => e);
    expect(strip(logPath)).toEqual(strip(join(dir, 'full', 'train.jsonl')));
    // The checkpoint records E and the teacher by SHA-256; a changed E is refused on resume.
    const ck = readSafetensors(join(dir, 'cut', 'checkpoints', 'iter-00000050.safetensors'));
    const state = JSON.parse(ck.metadata.state!) as { lossState: { stage2: { cr: { embedding: { sha256: string }; teacher: { path: string } } } } };
    expect(state.lossState.stage2.cr.teacher.path).toBe('cr-teacher-stage2.safetensors');
    expect(state.lossState.stage2.cr.embedding.sha256).toMatch(/^[0-9a-f]{64}$/);
    mkdirSync(join(dir, 'changed', 'checkpoints'), { recursive: true });
    copyFileSync(join(dir, 'cut', 'checkpoints', 'iter-00000050.safetensors'), join(dir, 'changed', 'checkpoints', 'iter-00000050.safetensors'));
    copyFileSync(join(dir, 'cut', 'cr-teacher-stage2.safetensors'), join(dir, 'changed', 'cr-teacher-stage2.safetensors'));
    const other = join(dir, 'e2.safetensors');
    const e2 = createEmbedding(E_CONFIG, { seed: 5 });
    await saveEmbedding(e2, other);
    e2.dispose();
    const p = join(dir, 'changed.json');
    writeFileSync(p, JSON.stringify(stage2Config(join(dir, 'changed'), { cr: { embedding: other } })));
    const refused = runCli(['train', '--config', p, '--resume'], { env });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/cr: the embedding network .*e2\.safetensors differs from the one this run started with/);
  });

  it('Table VII\'s rows are configs (examples/cr-table7/), validated strictly', () => {
    const folder = join(repoRoot, 'examples', 'cr-table7');
    const files = readdirSync(folder).filter((f) => f.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThanOrEqual(6);
    const rows: Record<string, unknown> = {};
    for (const f of files) {
      const c = resolveTrainConfig(JSON.parse(readFileSync(join(folder, f), 'utf8')), folder);
      const cr = c.stages.at(-1)!.loss.cr;
      rows[f] = cr ? [cr.options.positives, cr.options.negatives].map((x) => JSON.stringify(x)) : 'l1 only';
    }
    expect(Object.keys(rows)).toContain('row7-gen+gt_gen+lr.json');
    const base = { data: { train: { type: 'images', dir: 'x' } } };
    const bad = (cr: unknown) => () => resolveTrainConfig({ ...base, stages: [{ loss: { l1: 1, cr } }] });
    expect(bad({ embedding: 'e', positive: 'gt' })).toThrow(/stages\[0\]\.loss\.cr: unknown field 'positive' \(did you mean 'positives'\?\)/);
    expect(bad({ embedding: 'e', positives: 'gen+lr' })).toThrow(/stages\[0\]\.loss\.cr\.positives: must be one of "gen\+gt", "gen", "gt", got "gen\+lr"/);
    expect(bad({ tau: 1 })).toThrow(/stages\[0\]\.loss\.cr\.embedding: is required/);
    expect(bad({ embedding: 'e', positives: { sharpened: 0, teacher: false, gt: false } })).toThrow(/positives: has no positives/);
    expect(bad({ embedding: 'e', negatives: { blur: { kernelSizes: [4] } } })).toThrow(/negatives\.blur\.kernelSizes\[0\]: must be odd, got 4/);
    expect(bad({ embedding: 'e', negatives: { blur: { sigma: [2, 1] } } })).toThrow(/negatives\.blur\.sigma: high 1 is below low 2/);
    expect(bad({ embedding: 'e', tau: 0 })).toThrow(/cr\.tau: must be > 0/);
    const ok = resolveTrainConfig({ ...base, stages: [{ loss: { l1: 1, cr: { weight: 0.5, embedding: 'e' } } }] }).stages[0]!.loss.cr!;
    expect(ok.weight).toBe(0.5);
    expect(ok.options).toMatchObject({ tau: 1, teacher: 'stage-start', chunk: 16, positives: { sharpened: 3, teacher: true, gt: true }, negatives: { blurred: 4, lr: true, others: 0 } });
  });
});

describe('pretraining E (SimCLR)', () => {
  const config = (out: string, iters: number) => ({
    embedding: E_CONFIG,
    seed: 2,
    out,
    data: { dir: images, patch: 48, size: 24 },
    batch: 4,
    iters,
    lr: 1e-3,
    checkpoint: { every: 4, keep: 10 },
    log: { every: 1 },
  });

  it('the CLI trains, checkpoints and writes a loadable E; resuming from any checkpoint ends with the same bytes', async () => {
    const p = join(dir, 'pre.json');
    writeFileSync(p, JSON.stringify(config(join(dir, 'pre'), 12)));
    const r = runCli(['pretrain-embedding', '--config', p]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/pretraining E: 12 iterations on \d+ images/);
    const log = readJsonl(join(dir, 'pre', 'train.jsonl')) as unknown as { iteration: number; loss: number }[];
    expect(log.map((e) => e.iteration)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(log.every((e) => Number.isFinite(e.loss) && e.loss > 0)).toBe(true);
    const e = loadEmbedding(join(dir, 'pre', 'embedding.safetensors'));
    expect(e.config.widths).toEqual(E_CONFIG.widths);
    e.dispose();
    // A pretraining checkpoint loads as an E too.
    loadEmbedding(join(dir, 'pre', 'checkpoints', 'iter-00000008.safetensors')).dispose();
    // Resume from iteration 4's checkpoint in a fresh folder (what kill -9 after it leaves).
    const cut = join(dir, 'pre-cut');
    mkdirSync(join(cut, 'checkpoints'), { recursive: true });
    copyFileSync(join(dir, 'pre', 'checkpoints', 'iter-00000004.safetensors'), join(cut, 'checkpoints', 'iter-00000004.safetensors'));
    const res = await pretrainEmbedding(resolvePretrainConfig(config(cut, 12)), { resume: true });
    expect(res.iteration).toBe(12);
    const a = readSafetensors(join(dir, 'pre', 'embedding.safetensors')).tensors;
    const b = readSafetensors(join(cut, 'embedding.safetensors')).tensors;
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, t] of a) expect(Buffer.from(b.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
    // Bad configs name the field (exit code 2 from the CLI).
    writeFileSync(p, JSON.stringify({ ...config(join(dir, 'x'), 2), augment: { greyp: 0.2 } }));
    const bad = runCli(['pretrain-embedding', '--config', p]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/augment: unknown field 'greyp' \(did you mean 'greyP'\?\)/);
    expect(() => resolvePretrainConfig({ ...config('x', 2), data: { dir: 'x', files: ['y'] } })).toThrow(/data: needs exactly one of 'dir' and 'files'/);
    expect(() => resolvePretrainConfig({ ...config('x', 2), batch: 1 })).toThrow(/batch: must be in 2\.\./);
  });
});
