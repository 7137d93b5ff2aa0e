// End-to-end MPF-Net on the CPU against PyTorch (lib/models/mpfnet): one full training step of
// the default ×4 model (zero grads, forward, L1, backward, Adam) at batch 1 and 4 on 48×48 LR
// patches, and inference (no grad; the upscaler's default 'fp32' inference precision, docs/performance.md)
// on 128×128 and 256×256 LR inputs. FLOPs come from summary():
// forward = 2 × MACs, a training step ≈ 3 × forward.
//
// `npm run bench -- train-step [--quick]` runs each case here (2 warm-up runs, then
// MPFNET_BENCH_REPS timed runs, default 7, at least 5; --quick: 3) and in PyTorch
// (bench/peers/pytorch_train-step.py: the same model, torch.set_num_threads and the OpenMP / MKL /
// OpenBLAS caps equal to our thread count), the two taking turns in three rounds (timeInTurns), so
// both see the same machine load. It writes bench/results/cpu-train-step.json (min / median / max
// of both, the ratio of medians, the load average; cpu-train-step-avx2.json and the like under a
// forced MPFNET_SIMD, harness.ts resultsPath) and prints the table of docs/performance.md.
// MPFNET_BENCH_CASES=substring picks cases.
import { loadavg } from 'node:os';
import { Generator, getConvAlgorithm, memory, noGrad, rand, tidy, withInferencePrecision, type Tensor } from '../lib/index.js';
import { MPFNet, createModel } from '../lib/models/mpfnet/mpfnet.js';
import { summary } from '../lib/models/mpfnet/summary.js';
import { Adam } from '../lib/optim/adam.js';
import { l1Loss } from '../lib/ops/index.js';
import { machineInfo, resultsPath, runPeer, writeJsonAtomic, type BenchCase, type Timing } from './harness.js';

export const group = 'train-step';

const SCALE = 4;

/** Our side of each case: the harness's BenchCase (setup / fn / teardown). */
export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  let model: MPFNet;
  let opt: Adam;
  let x: Tensor;
  let y: Tensor;
  for (const batch of [1, 4]) {
    const size = 48;
    out.push({
      group,
      name: `train step b${batch} ${size}x${size} x${SCALE}`,
      params: { mode: 'train', batch, size, scale: SCALE },
      flops: 3 * 2 * summary(withModel(), [size, size], batch).macs,
      setup: () => {
        model = createModel({ scale: SCALE }, { seed: 1 });
        opt = new Adam(model.parameters(), { lr: 1e-4 });
        x = rand([batch, 3, size, size], { generator: new Generator(2) });
        y = rand([batch, 3, SCALE * size, SCALE * size], { generator: new Generator(3) });
      },
      fn: () => {
        tidy(() => {
          opt.zeroGrad();
          l1Loss(model.forward(x), y).backward();
        });
        opt.step();
      },
      teardown: () => {
        opt.dispose();
        model.dispose();
        x.dispose();
        y.dispose();
      },
    });
  }
  for (const size of [128, 256]) {
    out.push({
      group,
      name: `inference b1 ${size}x${size} x${SCALE}`,
      params: { mode: 'infer', batch: 1, size, scale: SCALE, noGrad: true, precision: 'fp32' },
      flops: 2 * summary(withModel(), [size, size], 1).macs,
      setup: () => {
        model = createModel({ scale: SCALE }, { seed: 1 }).eval();
        x = rand([1, 3, size, size], { generator: new Generator(2) });
      },
      fn: () => {
        withInferencePrecision('fp32', () => noGrad(() => tidy(() => void model.forward(x))));
      },
      teardown: () => {
        model.dispose();
        x.dispose();
      },
    });
  }
  return out;
}

let counted: MPFNet | null = null;
/** A default model for counting (summary needs no weights, but does need the module tree). */
function withModel(): MPFNet {
  counted ??= new MPFNet({ scale: SCALE }, { generator: new Generator(0) });
  return counted;
}

function timing(samples: number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return {
    min: s[0]!,
    median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    max: s[s.length - 1]!,
    samples: s.length,
  };
}

/** How the timed runs are cut into turns: 7 runs in 3 rounds are 3, 2, 2. */
function turnSizes(reps: number, rounds: number): number[] {
  const r = Math.max(1, Math.min(rounds, reps));
  return Array.from({ length: r }, (_, i) => Math.floor(reps / r) + (i < reps % r ? 1 : 0));
}

/**
 * Ours and the peer take turns: ours times a few runs, then the peer (a fresh process, with its own
 * two warm-up runs) as many, round after round. The machine's drift over minutes then lands on both
 * sides alike instead of on the ratio (as in bench/onnx.bench.ts).
 */
function timeInTurns(c: BenchCase, reps: number, rounds: number, peer: boolean) {
  const ours: number[] = [];
  const theirs: number[] = [];
  let version: string | null = null;
  c.setup?.();
  try {
    for (let i = 0; i < 2; i++) c.fn();
    for (const [round, n] of turnSizes(reps, rounds).entries()) {
      // One untimed run after the peer's turn: starting the peer forks this process, which leaves
      // every page of ours copy-on-write until written again, and the first run after it paid
      // 0.4-1.1 s of page faults (a 48x48 step 1019 ms against 191-271).
      if (round > 0) c.fn();
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        c.fn();
        ours.push(performance.now() - t0);
      }
      const p = peer ? runPeer(group, [c], { timeMs: 0, iterations: n }) : null;
      if (p) {
        version = p.version;
        theirs.push(...(p.samples.get(c.name) ?? []));
      }
    }
  } finally {
    c.teardown?.();
  }
  return { ours, theirs, version };
}

/** The target of each mode: our median at least this many times PyTorch's speed. */
// Issue 15's targets (bench/targets.bench.ts gathers them with the others).
const TARGET: Record<string, number> = { train: 4, infer: 6 };

interface Measured extends Timing {
  /** Every timed run, ms, in order. */
  samplesMs: number[];
}

interface CaseResult {
  name: string;
  params: BenchCase['params'];
  gflop: number;
  ours: Measured;
  oursGflops: number;
  peer: Measured | null;
  peerGflops: number | null;
  /** PyTorch's median time / ours: > 1 means we are faster. */
  speedup: number | null;
  target: number;
  meetsTarget: boolean | null;
  /** 1-minute load average before and after the case (other work on the machine skews timings). */
  loadAverage: [number, number];
}

export async function run(o: { quick: boolean }): Promise<void> {
  const reps = o.quick ? 3 : Math.max(5, Number(process.env.MPFNET_BENCH_REPS ?? 7));
  const only = process.env.MPFNET_BENCH_CASES;
  const picked = cases().filter((c) => !only || c.name.includes(only));
  const results: CaseResult[] = [];
  let peerVersion: string | null = null;
  for (const c of picked) {
    const load = loadavg()[0]!;
    const { ours, theirs, version } = timeInTurns(c, reps, o.quick ? 1 : 3, !process.env.MPFNET_BENCH_NO_PEER);
    if (version) peerVersion = `pytorch ${version}`;
    const t = timing(ours);
    const p = theirs.length ? timing(theirs) : null;
    const target = TARGET[String(c.params.mode)]!;
    const speedup = p ? p.median / t.median : null;
    const r: CaseResult = {
      name: c.name,
      params: c.params,
      gflop: c.flops / 1e9,
      ours: { ...t, samplesMs: ours },
      oursGflops: c.flops / (t.median * 1e6),
      peer: p ? { ...p, samplesMs: theirs } : null,
      peerGflops: p ? c.flops / (p.median * 1e6) : null,
      speedup,
      target,
      meetsTarget: speedup === null ? null : speedup >= target,
      loadAverage: [load, loadavg()[0]!],
    };
    results.push(r);
    const ms = (x: Timing) => `${x.min.toFixed(0)} / ${x.median.toFixed(0)} / ${x.max.toFixed(0)} ms`;
    console.log(
      `${c.name}: ours ${ms(t)}` + (p ? `, torch ${ms(p)}, ${speedup!.toFixed(2)}× (target ${target}×)` : '') +
        ` (min / median / max of ${reps}; load ${r.loadAverage.map((l) => l.toFixed(1)).join(' -> ')})`,
    );
  }
  const file = resultsPath('cpu-train-step');
  writeJsonAtomic(file, { group, machine: machineInfo(), convAlgorithm: getConvAlgorithm(), peer: peerVersion, reps, results, memoryAfter: memory() });
  console.log(`\n${markdownTable(results)}\nwrote ${file}`);
}

interface Row {
  name: string;
  ours: Timing;
  peer: Timing | null;
  speedup: number | null;
  target: number;
}

/** The table of docs/performance.md: medians (min–max) in ms and the ratio to PyTorch. */
export function markdownTable(rows: Row[]): string {
  const f = (t: Timing) => `${t.median.toFixed(0)} (${t.min.toFixed(0)}–${t.max.toFixed(0)})`;
  return [
    '| case | mpfnet ms, median (min–max) | PyTorch ms, median (min–max) | speed vs PyTorch | target |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.name} | ${f(r.ours)} | ${r.peer ? f(r.peer) : '–'} | ${r.speedup ? `${r.speedup.toFixed(2)}×` : '–'} | ≥ ${r.target}× |`),
  ].join('\n');
}
