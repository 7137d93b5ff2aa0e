// npm run bench -- peak: the machine's measured arithmetic peak (native/cpu/peak.cc): fp32 FMA
// loops with >= 12 independent accumulators per thread on every pool thread, and AVX512_BF16
// vdpbf16ps where the CPU has it. Writes bench/results/peak.json, which bench/harness.ts reads for
// the "% fp32 peak" column of the conv2d / GEMM benchmarks. There is no peer: this is the ceiling.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { native, packageRoot } from '../bindings/index.js';
import { machineInfo, writeJsonAtomic } from './harness.js';

export const group = 'peak';

/** Measures the peak (best of a few runs: a busy machine only ever lowers it) and writes peak.json. */
export async function run(o: { quick: boolean }): Promise<void> {
  const ms = o.quick ? 100 : 500;
  const runs = o.quick ? 2 : 5;
  let fp32 = 0;
  let bf16: number | null = null;
  let threads = 0;
  let isa = '';
  for (let i = 0; i < runs; i++) {
    const r = native.peakGflops(ms);
    fp32 = Math.max(fp32, r.fp32);
    if (r.bf16 !== null) bf16 = Math.max(bf16 ?? 0, r.bf16);
    threads = r.threads;
    isa = r.isa;
  }
  const path = join(packageRoot(), 'bench', 'results', 'peak.json');
  // The 1-minute load average says how much of the machine other jobs had during the measurement.
  writeJsonAtomic(path, { group, machine: { ...machineInfo(), loadAverage1m: loadavg()[0] }, options: { ms, runs }, isa, threads, fp32, bf16 });
  console.log(`\npeak (${isa}, ${threads} threads): fp32 ${fp32.toFixed(1)} GFLOP/s, bf16 ${bf16 === null ? 'n/a' : bf16.toFixed(1) + ' GFLOP/s'}`);
  console.log(`wrote ${path}`);
}
