// Inference of the exported default ×4 MPF-Net (seeded weights): our engine vs onnxruntime-node
// (the same thread count; spinning on, its default, and off) vs onnxruntime-web's WASM backend in
// this Node process, on 128² and 256² inputs: median of ≥ 5 runs after a warm-up run. The model
// output is the clamped image in all three. Measurements, not tests.
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
import { exportOnnx, noGrad, setNumThreads, tensor, tidy } from '../lib/index.js';
import { uniform01 } from '../lib/random.js';
import { createModel } from '../lib/models/mpfnet/mpfnet.js';
import { summary } from '../lib/models/mpfnet/summary.js';
import { machineInfo, writeJsonAtomic } from './harness.js';

export const group = 'onnx';

interface Row {
  runtime: string;
  size: number;
  threads: number;
  medianMs: number;
  minMs: number;
  samples: number;
  gflops: number;
}

async function time(fn: () => unknown, runs: number): Promise<{ median: number; min: number; samples: number }> {
  await fn(); // warm-up: allocator, thread pools, kernel selection
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)]!, min: ms[0]!, samples: ms.length };
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
  try {
    const nodeSpin = await ortNode.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1 });
    const nodeNoSpin = await ortNode.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, extra: { session: { intra_op: { allow_spinning: '0' } } } });
    ortWeb.env.wasm.numThreads = threads;
    const web = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    for (const size of sizes) {
      const shape = [1, 3, size, size];
      const x = Float32Array.from({ length: 3 * size * size }, (_, i) => uniform01(11, i));
      const flops = 2 * summary(model, [size, size], 1).macs;
      const add = (runtime: string, t: { median: number; min: number; samples: number }) => {
        rows.push({ runtime, size, threads, medianMs: t.median, minMs: t.min, samples: t.samples, gflops: flops / (t.median * 1e6) });
        console.log(`${runtime} ${size}²: ${t.median.toFixed(0)} ms median of ${t.samples}`);
      };
      add('mpfnet (this engine)', await time(() => noGrad(() => tidy(() => model.forwardImage(tensor(x, shape)).toFloat32Array())), runs));
      add('onnxruntime-node', await time(() => nodeSpin.run({ input: new ortNode.Tensor('float32', x, shape) }), runs));
      add('onnxruntime-node, no spinning', await time(() => nodeNoSpin.run({ input: new ortNode.Tensor('float32', x, shape) }), runs));
      add('onnxruntime-web (WASM, in Node)', await time(() => web.run({ input: new ortWeb.Tensor('float32', x, shape) }), runs));
    }
    await Promise.all([nodeSpin.release(), nodeNoSpin.release(), web.release()]);
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${group}: exported default ×4 MPF-Net, ${threads} threads each`);
  console.table(rows.map((r) => ({ runtime: r.runtime, size: `${r.size}²`, 'ms (median)': r.medianMs.toFixed(0), 'GFLOP/s': r.gflops.toFixed(1), samples: r.samples })));
  const path = join(packageRoot(), 'bench', 'results', `${group}.json`);
  const machine = { ...machineInfo(), loadAverageAtStart: load0, loadAverageAtEnd: loadavg()[0], logicalCpus: cpus().length };
  writeJsonAtomic(path, { group, machine, options: { sizes, runs, threads, quick: o.quick, note: 'median after one warm-up run; the machine was shared (see loadAverage)' }, rows });
  console.log(`wrote ${path}`);
}

// Allow `node dist/bench/onnx.bench.js` directly as well as through run.ts.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await run({ quick: process.argv.includes('--quick') });
