// Data-parallel training (docs/distributed-training.md): `mpfnet train` of the default
// ×4 model, global batch 8 of 48×48 LR patches (three images of data/images), as 1 process × 2
// threads and as `mpirun -np 2` × 1 thread, on this machine. Reported: steady-state iterations/s
// (from train.jsonl's per-iteration training seconds, the first 2 iterations skipped as warm-up),
// the all-reduce time per step and its bytes (rank 0's log: allreduceMs / allreduceBytes, waiting
// for the slower rank included) and the all-reduce alone (bench/allreduce-probe.ts). The
// peer, in the same run: PyTorch DistributedDataParallel (gloo) with the same model, 2 × 1 thread
// vs 1 × 2 threads (bench/peers/pytorch_distributed.py; random tensors, no data loading).
//
// `npm run bench -- distributed [--quick]` writes bench/results/distributed.json.
// MPFNET_BENCH_ITERS sets the iterations per run (default 8, --quick 4).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../bindings/index.js';
import { readJsonl } from '../lib/train/log.js';
import { findTorchPython, machineInfo, writeJsonAtomic } from './harness.js';

export const group = 'distributed';
const BATCH = 8;
const PATCH = 48;

/** Unused: this group has its own driver (run). */
export function cases(): never[] {
  return [];
}

interface RunFigures {
  processes: number;
  threadsPerProcess: number;
  itPerSec: number;
  stepMs: number[];
  allreduceMs: number | null;
  allreduceBytes: number | null;
  wallSeconds: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : NaN;
}

function trainRun(root: string, tmp: string, name: string, iters: number, processes: number): RunFigures {
  const out = join(tmp, name);
  rmSync(out, { recursive: true, force: true });
  const cfg = join(tmp, `${name}.json`);
  writeFileSync(cfg, JSON.stringify({
    model: { scale: 4 },
    seed: 1,
    out,
    // text.png is too small for 48×48 LR patches at ×4.
    data: { train: { type: 'images', files: ['camera.png', 'chelsea.png', 'coffee.png'].map((f) => join(root, 'data', 'images', f)) }, batch: BATCH, patch: PATCH, workers: 0 },
    stages: [{ iters, lr: 1e-4 }],
    validation: { every: 0 },
    checkpoint: { every: 0, keep: 1 },
    log: { every: 1 },
  }));
  const cli = [join(root, 'bin', 'mpfnet.js'), 'train', '-c', cfg, '--quiet'];
  const threads = processes === 1 ? 2 : 1;
  const t0 = performance.now();
  const r = processes === 1
    ? spawnSync(process.execPath, cli, { env: { ...process.env, MPFNET_NUM_THREADS: String(threads) }, encoding: 'utf8' })
    : spawnSync('mpirun', ['--oversubscribe', '--allow-run-as-root', '--bind-to', 'none', '-np', String(processes), '-x', `MPFNET_NUM_THREADS=${threads}`, process.execPath, ...cli], { encoding: 'utf8' });
  const wallSeconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`distributed bench: ${name} failed (${r.status}): ${r.stderr}${r.stdout}`);
  const log = readJsonl(join(out, 'train.jsonl'));
  const secs = log.map((e) => e.seconds as number);
  const stepMs = secs.slice(1).map((s, i) => (s - secs[i]!) * 1000).slice(1); // skip the first 2 steps
  const ar = log.slice(2).map((e) => e.allreduceMs as number | undefined).filter((x): x is number => x !== undefined);
  return {
    processes,
    threadsPerProcess: threads,
    itPerSec: 1000 / median(stepMs),
    stepMs,
    allreduceMs: ar.length ? median(ar) : null,
    allreduceBytes: (log[log.length - 1]?.allreduceBytes as number | undefined) ?? null,
    wallSeconds,
  };
}

/** Run both configurations and the PyTorch peer; write bench/results/distributed.json. */
export async function run(o: { quick: boolean }): Promise<void> {
  const root = packageRoot();
  const iters = Number(process.env.MPFNET_BENCH_ITERS ?? (o.quick ? 4 : 8));
  const tmp = join(root, 'bench', 'results', 'tmp', 'distributed');
  mkdirSync(tmp, { recursive: true });
  const load = [loadavg()[0]];
  const single = trainRun(root, tmp, 'single', iters, 1);
  const ranks = trainRun(root, tmp, 'ranks', iters, 2);
  // The all-reduce alone (ranks lined up first): the transport's cost without load imbalance.
  const probe = spawnSync('mpirun', ['--oversubscribe', '--allow-run-as-root', '--bind-to', 'none', '-np', '2', '-x', 'MPFNET_NUM_THREADS=1', process.execPath, join(root, 'dist', 'bench', 'allreduce-probe.js'), String(ranks.allreduceBytes ? ranks.allreduceBytes / 4 : 6_220_000)], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`distributed bench: the all-reduce probe failed: ${probe.stderr}`);
  const allreduceOnly = JSON.parse(probe.stdout.trim().split('\n').pop()!) as { medianMs: number; bytes: number };
  let peer: unknown = null;
  const py = process.env.MPFNET_BENCH_NO_PEER ? null : findTorchPython();
  if (py) {
    const r = spawnSync(py, [join(root, 'bench', 'peers', 'pytorch_distributed.py'), String(BATCH), String(iters)], { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (r.status === 0) peer = JSON.parse(r.stdout.trim().split('\n').pop()!);
    else console.warn(`distributed bench: the PyTorch peer failed: ${r.stderr.slice(-2000)}`);
  }
  load.push(loadavg()[0]);
  const result = {
    group,
    machine: machineInfo(),
    loadAverage: load,
    workload: { model: 'MPF-Net x4 (default, 6.22 M parameters)', globalBatch: BATCH, lrPatch: PATCH, iterations: iters, data: 'data/images, workers 0' },
    ours: { single, ranks, speedup: ranks.itPerSec / single.itPerSec, allreduceOnly, allreduceGBps: allreduceOnly.bytes / (allreduceOnly.medianMs * 1e6) },
    peer,
  };
  console.table([
    { run: '1 process x 2 threads', 'it/s': single.itPerSec.toFixed(3), 'all-reduce ms': '-' },
    { run: '2 ranks x 1 thread', 'it/s': ranks.itPerSec.toFixed(3), 'all-reduce ms': ranks.allreduceMs?.toFixed(1), 'all-reduce MB': ((ranks.allreduceBytes ?? 0) / 1e6).toFixed(2) },
    { run: 'all-reduce alone (ranks lined up)', 'it/s': '-', 'all-reduce ms': allreduceOnly.medianMs.toFixed(1), 'all-reduce MB': (allreduceOnly.bytes / 1e6).toFixed(2) },
  ]);
  if (peer) console.log('PyTorch peer:', JSON.stringify(peer, (k, v: unknown) => (k === 'stepMs' ? undefined : v)));
  const path = join(root, 'bench', 'results', 'distributed.json');
  writeJsonAtomic(path, result);
  console.log(`wrote ${path}`);
}
