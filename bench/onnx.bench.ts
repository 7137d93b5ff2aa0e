// Inference of the exported default ×4 MPF-Net (seeded weights): our engine vs onnxruntime-node
// (the same thread count; spinning on, its default, and off) vs onnxruntime-web's WASM backend in
// this Node process, on 128² and 256² inputs: median of ≥ 5 runs after a warm-up run, the runtimes
// taking turns run by run (timeInTurns). The model output is the clamped image in all three. Ours
// runs under each inference precision ('strict', the training forward; 'fp32'; 'bf16' where the
// CPU has AVX512_BF16: docs/performance.md), and the precisions' accuracy is recorded on trained
// weights (bench/briefly-trained.ts): PSNR of 'fp32' vs the float64 direct loops and of 'bf16' vs
// 'fp32'. Each row has the wall time and the process CPU time (all threads' sum: with
// MPFNET_BENCH_THREADS=1 a measure of the work on a shared machine). Measurements, not tests.
//
// npm run bench -- onnx [--quick]   (quick: 128² only, WASM included)
// MPFNET_BENCH_THREADS (default 2) sets every runtime's threads.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { packageRoot } from '../bindings/index.js';
import { bf16Supported, exportOnnx, Generator, noGrad, setConvAlgorithm, setNumThreads, tensor, tidy, withInferencePrecision, type InferencePrecision } from '../lib/index.js';
import { MPFNet } from '../lib/models/mpfnet/mpfnet.js';
import { uniform01 } from '../lib/random.js';
import { createModel } from '../lib/models/mpfnet/mpfnet.js';
import { summary } from '../lib/models/mpfnet/summary.js';
import { brieflyTrainedX4, patchBatch } from './briefly-trained.js';
import { machineInfo, writeJsonAtomic } from './harness.js';

export const group = 'onnx';

interface Row {
  runtime: string;
  size: number;
  threads: number;
  medianMs: number;
  minMs: number;
  /** Process CPU time of the median run (all threads). */
  cpuMs: number;
  samples: number;
  gflops: number;
}

interface Times {
  median: number;
  min: number;
  cpu: number;
  samples: number;
}

// The runtimes take turns, one run each per round (after one warm-up run each): this shared
// machine's speed drifts by 10-30% over minutes, and runs taken back to back per runtime put that
// drift into the ratios between runtimes; in turns every runtime sees the same stretch of it.
async function timeInTurns(fns: (() => unknown)[], runs: number): Promise<Times[]> {
  for (const fn of fns) await fn(); // warm-up: allocator, thread pools, kernel selection
  const t: [wall: number, cpu: number][][] = fns.map(() => []);
  for (let i = 0; i < runs; i++)
    for (const [k, fn] of fns.entries()) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await fn();
      const c = process.cpuUsage(c0);
      t[k]!.push([performance.now() - t0, (c.user + c.system) / 1000]);
    }
  return t.map((ts) => {
    ts.sort((a, b) => a[0] - b[0]);
    const [median, cpu] = ts[Math.floor(ts.length / 2)]!;
    return { median, min: ts[0]![0], cpu, samples: ts.length };
  });
}

function psnr(a: Float32Array | Float64Array, b: Float32Array | Float64Array): number {
  let se = 0;
  for (let i = 0; i < b.length; i++) se += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10(b.length / se);
}

/**
 * On the briefly trained ×4 model and a 64² patch of data/images: PSNR (peak 1, unclamped output)
 * of 'fp32' vs the float64 direct loops and of 'bf16' vs 'fp32' (the bounds of
 * test/inference-precision.test.ts: ≥ 60 dB and ≥ 50 dB).
 */
async function precisionAccuracy(): Promise<{ fp32VsFloat64Db: number; bf16VsFp32Db: number | null; trainSteps: number; inputSize: number }> {
  const steps = 40;
  const inputSize = 64;
  const model = await brieflyTrainedX4(steps);
  model.eval();
  const m64 = new MPFNet(model.config, { dtype: 'float64' }).loadStateDict(model.stateDict());
  m64.eval();
  const { lr, hr } = await patchBatch(1, 4 * inputSize, new Generator(11));
  try {
    const run = (p: InferencePrecision) => withInferencePrecision(p, () => noGrad(() => tidy(() => model.forward(lr).toFloat32Array())));
    const before = setConvAlgorithm('direct');
    const ref = noGrad(() => tidy(() => m64.forward(lr.astype('float64')).toFloat64Array()));
    setConvAlgorithm(before);
    const fp32 = run('fp32');
    return { fp32VsFloat64Db: psnr(fp32, ref), bf16VsFp32Db: bf16Supported() ? psnr(run('bf16'), fp32) : null, trainSteps: steps, inputSize };
  } finally {
    for (const t of [lr, hr]) t.dispose();
    model.dispose();
    m64.dispose();
  }
}

export async function run(o: { quick: boolean }): Promise<void> {
  const threads = Number(process.env.MPFNET_BENCH_THREADS ?? 2);
  const sizes = o.quick ? [128] : [128, 256];
  const runs = 5;
  setNumThreads(threads);
  const dir = mkdtempSync(join(tmpdir(), 'mpfnet-bench-onnx-'));
  const model = createModel({}, { seed: 1 });
  const file = join(dir, 'x4.onnx');
  await exportOnnx(model, file);
  const bytes = readFileSync(file);
  const rows: Row[] = [];
  const load0 = loadavg()[0]!;
  const accuracy = await precisionAccuracy();
  console.log(`precision accuracy on trained weights: fp32 vs float64 ${accuracy.fp32VsFloat64Db.toFixed(1)} dB, bf16 vs fp32 ${accuracy.bf16VsFp32Db?.toFixed(1) ?? 'n/a (no AVX512_BF16)'} dB`);
  try {
    const nodeSpin = await ortNode.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1 });
    const nodeNoSpin = await ortNode.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, extra: { session: { intra_op: { allow_spinning: '0' } } } });
    ortWeb.env.wasm.numThreads = threads;
    const web = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    for (const size of sizes) {
      const shape = [1, 3, size, size];
      const x = Float32Array.from({ length: 3 * size * size }, (_, i) => uniform01(11, i));
      const flops = 2 * summary(model, [size, size], 1).macs;
      const add = (runtime: string, t: Times) => {
        rows.push({ runtime, size, threads, medianMs: t.median, minMs: t.min, cpuMs: t.cpu, samples: t.samples, gflops: flops / (t.median * 1e6) });
        console.log(`${runtime} ${size}²: ${t.median.toFixed(0)} ms median of ${t.samples} (CPU ${t.cpu.toFixed(0)} ms)`);
      };
      const precisions: InferencePrecision[] = bf16Supported() ? ['strict', 'fp32', 'bf16'] : ['strict', 'fp32'];
      const runtimes: [string, () => unknown][] = [
        ...precisions.map((p): [string, () => unknown] => [`mpfnet (this engine), ${p}`, () => withInferencePrecision(p, () => noGrad(() => tidy(() => model.forwardImage(tensor(x, shape)).toFloat32Array())))]),
        ['onnxruntime-node', () => nodeSpin.run({ input: new ortNode.Tensor('float32', x, shape) })],
        ['onnxruntime-node, no spinning', () => nodeNoSpin.run({ input: new ortNode.Tensor('float32', x, shape) })],
        ['onnxruntime-web (WASM, in Node)', () => web.run({ input: new ortWeb.Tensor('float32', x, shape) })],
      ];
      const times = await timeInTurns(runtimes.map(([, fn]) => fn), runs);
      runtimes.forEach(([name], k) => add(name, times[k]!));
    }
    await Promise.all([nodeSpin.release(), nodeNoSpin.release(), web.release()]);
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${group}: exported default ×4 MPF-Net, ${threads} threads each`);
  console.table(rows.map((r) => ({ runtime: r.runtime, size: `${r.size}²`, 'ms (median)': r.medianMs.toFixed(0), 'CPU ms': r.cpuMs.toFixed(0), 'GFLOP/s': r.gflops.toFixed(1), samples: r.samples })));
  const path = join(packageRoot(), 'bench', 'results', `${group}.json`);
  const machine = { ...machineInfo(), loadAverageAtStart: load0, loadAverageAtEnd: loadavg()[0], logicalCpus: cpus().length };
  writeJsonAtomic(path, { group, machine, options: { sizes, runs, threads, quick: o.quick, note: 'median after one warm-up run; the machine was shared (see loadAverage)' }, accuracy, rows });
  console.log(`wrote ${path}`);
}

// Allow `node dist/bench/onnx.bench.js` directly as well as through run.ts.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await run({ quick: process.argv.includes('--quick') });
