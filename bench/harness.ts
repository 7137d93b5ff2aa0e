// Benchmark harness shared by every bench/<family>.bench.ts: runs our cases with tinybench, runs
// the same cases in PyTorch (bench/peers/pytorch_<group>.py) with the same thread count when
// torch imports, and writes bench/results/<group>.json with GFLOP/s and the ratio to the peer.
// Benchmarks are measurements, not tests: nothing here asserts a speed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, renameSync, existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { getNumThreads, memory, simdLevel } from '../lib/index.js';
import { native, packageRoot } from '../bindings/index.js';

export interface BenchCase {
  /** The family, e.g. 'conv2d'; also the peer script's suffix and the results file's name. */
  group: string;
  /** Unique within the group; the peer reports under the same name. */
  name: string;
  /** What the peer needs to rebuild the case (shapes, flags). */
  params: Record<string, number | string | boolean | number[]>;
  /** Floating-point operations per call (2 per multiply-add), 0 when not meaningful. */
  flops: number;
  /**
   * The arithmetic the kernel really performs, when it differs from `flops` (Winograd: fewer
   * multiply-adds than the direct convolution `flops` counts). "% fp32 peak" uses this.
   */
  realFlops?: number;
  /** Bytes moved per call, for memory-bound kernels (optional). */
  bytes?: number;
  setup?: () => void;
  fn: () => void;
  teardown?: () => void;
}

export interface Timing {
  min: number;
  median: number;
  mean: number;
  max: number;
  samples: number;
}

export interface CaseResult {
  group: string;
  name: string;
  params: BenchCase['params'];
  flops: number;
  /** Bytes moved per call (memory-bound kernels), 0 when not given. */
  bytes: number;
  ours: Timing;
  oursGflops: number;
  /** bytes / median time in GB/s (0 when bytes is not given). */
  oursGBps: number;
  /** realFlops / median time in GFLOP/s, when the case gives realFlops (oursGflops: nominal). */
  oursRealGflops?: number;
  /** Real arithmetic rate as a percentage of the measured fp32 peak (fp32Peak: bench/results/peak.json, or measured now on another CPU). */
  pctFp32Peak?: number;
  peer?: Timing;
  peerGflops?: number;
  peerGBps?: number;
  /** peer median time / our median time: > 1 means we are faster. */
  speedup?: number;
}

export interface RunOptions {
  /** Milliseconds of sampling per case (after warm-up). */
  timeMs: number;
  /** Minimum samples per case. */
  iterations: number;
}

export async function runOurs(cases: BenchCase[], o: RunOptions): Promise<Map<string, Timing>> {
  const out = new Map<string, Timing>();
  for (const c of cases) {
    c.setup?.();
    try {
      const bench = new Bench({ time: o.timeMs, iterations: o.iterations, warmup: true, warmupIterations: 2, warmupTime: 0 });
      bench.add(c.name, c.fn);
      await bench.run();
      const r = bench.tasks[0]!.result as { latency?: { min: number; p50: number; mean: number; max: number; samplesCount?: number }; error?: unknown; state?: string };
      if (!r.latency) throw new Error(`bench ${c.name} failed: ${r.error instanceof Error ? r.error.message : JSON.stringify(r.error ?? r.state)}`);
      const l = r.latency;
      out.set(c.name, { min: l.min, median: l.p50, mean: l.mean, max: l.max, samples: l.samplesCount ?? 0 });
    } finally {
      c.teardown?.();
    }
  }
  return out;
}

/** A python3 that imports torch: $MPFNET_PYTHON, python3, or Debian's /usr/bin/python3. */
export function findTorchPython(): string | null {
  const candidates = [process.env.MPFNET_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

export function runPeer(group: string, cases: BenchCase[], o: RunOptions): { timings: Map<string, Timing>; samples: Map<string, number[]>; version: string } | null {
  const py = findTorchPython();
  const script = join(packageRoot(), 'bench', 'peers', `pytorch_${group}.py`);
  if (!py || !existsSync(script)) return null;
  const input = JSON.stringify({
    threads: getNumThreads(),
    timeMs: o.timeMs,
    iterations: o.iterations,
    cases: cases.map((c) => ({ name: c.name, params: c.params })),
  });
  // Thread caps for the peer's pools (bench/peers/peer_common.py applies them before importing torch).
  const t = String(getNumThreads());
  const env = { ...process.env, MPFNET_PEER_THREADS: t, OMP_NUM_THREADS: t, MKL_NUM_THREADS: t, OPENBLAS_NUM_THREADS: t };
  const r = spawnSync(py, [script], { input, encoding: 'utf8', maxBuffer: 1 << 26, env });
  if (r.status !== 0) {
    console.error(`peer ${script} failed:\n${r.stderr}`);
    return null;
  }
  const parsed = JSON.parse(r.stdout) as { version: string; results: { name: string; ms: Timing; samplesMs?: number[] }[] };
  return {
    version: parsed.version,
    timings: new Map(parsed.results.map((x) => [x.name, x.ms])),
    samples: new Map(parsed.results.map((x) => [x.name, x.samplesMs ?? []])),
  };
}

/**
 * The CPU's family and model numbers from /proc/cpuinfo (Linux x86), or null elsewhere. The model
 * name alone can hide the host: this VM has reported "AMD EPYC" on Zen 5 (family 26) and on Zen 4
 * (family 25, model 17), whose AVX-512 units run 512-bit operations in two halves, half the peak.
 */
function cpuFamilyModel(): { family: number; model: number } | null {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const family = /^cpu family\s*:\s*(\d+)/m.exec(text)?.[1];
    const model = /^model\s*:\s*(\d+)/m.exec(text)?.[1];
    return family && model ? { family: Number(family), model: Number(model) } : null;
  } catch {
    return null;
  }
}

export function machineInfo(): Record<string, unknown> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cpuFamilyModel: cpuFamilyModel(),
    logicalCpus: cpus().length,
    threads: getNumThreads(),
    simd: simdLevel(),
    node: process.version,
    date: new Date().toISOString(),
  };
}

/**
 * The machine's measured fp32 peak in GFLOP/s for `threads` threads, from bench/results/peak.json
 * (written by bench/peak.bench.ts; scaled per thread). When peak.json is missing or was written on
 * another CPU (its machine.cpuFamilyModel differs from this one's, or it predates that field while
 * this machine has one), the peak is measured here and now instead (null where neither is known): the
 * VM behind these results has moved between a Zen 5 and a Zen 4 whose AVX-512 peak is half, and a
 * share against the other host's peak would be off by that factor.
 */
export function fp32Peak(threads: number): { gflops: number; source: string } | null {
  const path = join(packageRoot(), 'bench', 'results', 'peak.json');
  const here = cpuFamilyModel();
  const peak = existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as { fp32?: number; threads?: number; machine?: { cpuFamilyModel?: unknown } })
    : null;
  if (peak?.fp32 && peak.threads && JSON.stringify(peak.machine?.cpuFamilyModel ?? null) === JSON.stringify(here)) {
    return { gflops: (peak.fp32 / peak.threads) * threads, source: 'bench/results/peak.json' };
  }
  if (!peak && !here) return null;
  // Best of three short runs, as bench/peak.bench.ts does (a busy machine only ever lowers it).
  let best = 0;
  let at = 1;
  for (let i = 0; i < 3; i++) {
    const r = native.peakGflops(300);
    if (r.fp32 > best) [best, at] = [r.fp32, r.threads];
  }
  console.log(`% fp32 peak: bench/results/peak.json is missing or from another CPU; this one measured now: ${best.toFixed(1)} GFLOP/s on ${at} threads`);
  return { gflops: (best / at) * threads, source: 'measured at the start of this run' };
}

export function gflops(flops: number, ms: number): number {
  return flops > 0 ? flops / (ms * 1e6) : 0;
}

export function gbps(bytes: number, ms: number): number {
  return bytes > 0 ? bytes / (ms * 1e6) : 0;
}

/**
 * bench/results/<name>.json, or <name>-<level>.json when MPFNET_SIMD forces an instruction set (a
 * run of the AVX2 kernels on an AVX-512 machine must not replace the machine's own results).
 */
export function resultsPath(name: string): string {
  const forced = process.env.MPFNET_SIMD;
  return join(packageRoot(), 'bench', 'results', forced ? `${name}-${forced}.json` : `${name}.json`);
}

/** Run a group (ours, then the peer), print a table, write resultsPath(file); returns results. */
export async function runGroup(group: string, cases: BenchCase[], o: RunOptions, file = group): Promise<CaseResult[]> {
  const ours = await runOurs(cases, o);
  const peer = process.env.MPFNET_BENCH_NO_PEER ? null : runPeer(group, cases, o);
  const peak = fp32Peak(getNumThreads());
  const results: CaseResult[] = cases.map((c) => {
    const t = ours.get(c.name)!;
    const p = peer?.timings.get(c.name);
    const bytes = c.bytes ?? 0;
    const r: CaseResult = { group, name: c.name, params: c.params, flops: c.flops, bytes, ours: t, oursGflops: gflops(c.flops, t.median), oursGBps: gbps(bytes, t.median) };
    if (c.realFlops !== undefined) r.oursRealGflops = gflops(c.realFlops, t.median);
    if (peak && c.flops) r.pctFp32Peak = (100 * gflops(c.realFlops ?? c.flops, t.median)) / peak.gflops;
    if (p) {
      r.peer = p;
      r.peerGflops = gflops(c.flops, p.median);
      r.peerGBps = gbps(bytes, p.median);
      r.speedup = p.median / t.median;
    }
    return r;
  });
  printTable(group, results);
  const path = resultsPath(file);
  writeJsonAtomic(path, { group, machine: machineInfo(), peer: peer ? `pytorch ${peer.version}` : null, options: o, fp32Peak: peak, results, memoryAfter: memory() });
  console.log(`wrote ${path}`);
  return results;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

function printTable(group: string, rs: CaseResult[]): void {
  const rows = rs.map((r) => ({
    case: r.name,
    'ms (median)': r.ours.median.toFixed(3),
    'GFLOP/s': r.flops ? r.oursGflops.toFixed(1) : '-',
    '% fp32 peak': r.pctFp32Peak !== undefined ? r.pctFp32Peak.toFixed(1) : '-',
    'GB/s': r.bytes ? r.oursGBps.toFixed(1) : '-',
    'torch ms': r.peer ? r.peer.median.toFixed(3) : '-',
    'torch GFLOP/s': r.peerGflops ? r.peerGflops.toFixed(1) : '-',
    'torch GB/s': r.peerGBps ? r.peerGBps.toFixed(1) : '-',
    'speed vs torch': r.speedup ? r.speedup.toFixed(2) + '×' : '-',
  }));
  console.log(`\n${group}`);
  console.table(rows);
}
