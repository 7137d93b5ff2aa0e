#!/usr/bin/env node
// The GPU check: every op and the full MPF-Net on CUDA against the CPU, device memory
// back at its baseline, and the default model's training step and inference timed against PyTorch
// on the same GPU. Plain JS with no dependencies beside the compiled library (dist/), so it runs
// from the self-contained bundle (test/gpu/make-bundle.sh, run.sh) on a machine without Node.
//
//   node test/gpu/check.mjs [--allow-no-cuda] [--no-bench] [--quick] [--iters N] [--only REGEX] [--out DIR]...
//                           [--report FILE] [--python PY] [--dist DIR]
//
// Parity: each case runs the same seeded inputs on both devices and compares the output and the
// gradient of every input of sum(y · w) (w seeded), as max|cuda − cpu| / max|cpu| ≤ 1e-4 per
// tensor (TF32 off). Exit status: 0 all passed (or CUDA unavailable with --allow-no-cuda), 1 a
// check failed, 2 CUDA unavailable.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const args = parseArgs(process.argv.slice(2));
const dist = resolve(args.dist ?? process.env.MPFNET_DIST ?? join(root, 'dist'));
const load = (p) => import(pathToFileURL(join(dist, p)).href);

// Only the modules the check needs (lib/index.js would also load sharp for image files).
const ops = await load('lib/ops/index.js');
const { Generator } = await load('lib/random.js');
const { tidy, noGrad } = await load('lib/autograd/scope.js');
const { memory, emptyCache } = await load('lib/memory.js');
const cuda = await load('lib/cuda.js');
const { createModel } = await load('lib/models/mpfnet/mpfnet.js');
const { summary } = await load('lib/models/mpfnet/summary.js');
const { Adam } = await load('lib/optim/adam.js');
const { SqueezeExcite } = await load('lib/nn/squeeze-excite.js');

const TOL = 1e-4;
const report = {
  check: 'mpfnet GPU check (test/gpu/check.mjs)',
  date: new Date().toISOString(),
  node: process.version,
  status: 'running',
  cuda: null,
  tolerance: TOL,
  parity: [],
  model: null,
  memory: null,
  bench: null,
  nccl: null,
  failures: [],
};

function parseArgs(argv) {
  const o = { out: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--allow-no-cuda') o.allowNoCuda = true;
    else if (a === '--no-bench') o.noBench = true;
    else if (a === '--quick') o.quick = true;
    else if (a === '--tiny-bench') o.tinyBench = true; // tiny shapes: for testing the check itself
    else if (a === '--bench-only') o.benchOnly = true;
    else if (a === '--tf32') o.tf32 = true; // benchmarks with TF32 allowed on both sides (parity stays TF32 off)
    else if (a === '--profile') o.profile = true; // time per native call kind (exact per op with MPFNET_CUDA_SYNC=1), and PyTorch's kernels
    else if (a === '--only') o.only = new RegExp(next()); // parity cases whose name matches; no model, no bench
    else if (a === '--iters') o.iters = Number(next());
    else if (a === '--out') o.out.push(next());
    else if (a === '--report') o.report = next();
    else if (a === '--python') o.python = next();
    else if (a === '--dist') o.dist = next();
    else if (a === '--help' || a === '-h') {
      console.log('usage: check.mjs [--allow-no-cuda] [--no-bench] [--quick] [--iters N] [--tiny-bench] [--bench-only] [--tf32] [--profile] [--only REGEX] [--out DIR] [--report FILE] [--python PY] [--dist DIR]');
      process.exit(0);
    } else throw new Error(`check.mjs: unknown argument ${a}`);
  }
  return o;
}

const log = (...a) => console.log(...a);
const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

// max|a − b| / max|b| (both as float64 arrays).
function relErr(a, b) {
  if (a.length !== b.length) return Infinity;
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= err)) err = d; // NaN propagates
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale > 0 ? err / scale : err;
}

function record(list, name, err, extra = {}) {
  const pass = err <= TOL;
  list.push({ name, relErr: err, pass, ...extra });
  if (!pass) report.failures.push(`${name}: relative error ${err.toExponential(2)} > ${TOL}`);
  log(`  ${pass ? 'ok  ' : 'FAIL'} ${name.padEnd(58)} ${err.toExponential(2)}`);
}

// ---------------------------------------------------------------------------------------------
// Op cases: inputs are seeded normals (optionally shifted to be positive); f maps them to one tensor.
const g = (seed) => new Generator(seed);
const cases = [];
const add = (name, shapes, f, o = {}) => cases.push({ name, shapes, f, ...o });

const unary = [
  ['relu', (x) => ops.relu(x)], ['leakyRelu', (x) => ops.leakyRelu(x, 0.1)], ['selu', (x) => ops.selu(x)],
  ['sigmoid', (x) => ops.sigmoid(x)], ['tanh', (x) => ops.tanh(x)], ['exp', (x) => ops.exp(x)],
  ['log', (x) => ops.log(x), true], ['sqrt', (x) => ops.sqrt(x), true], ['abs', (x) => ops.abs(x)],
  ['square', (x) => ops.square(x)], ['clamp', (x) => ops.clamp(x, -0.5, 0.7)], ['affine', (x) => ops.affine(x, -1.5, 0.25)],
];
for (const [n, f, positive] of unary) add(`unary ${n}`, [[3, 4, 17, 19]], ([x]) => f(x), { positive });
for (const op of ['add', 'sub', 'mul', 'div'])
  for (const [sa, sb] of [[[2, 3, 8, 9], [2, 3, 8, 9]], [[2, 3, 8, 9], [2, 3, 1, 1]], [[9], [2, 3, 8, 9]], [[4, 1, 5], [3, 1]], [[2, 5], [1]]])
    add(`binary ${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, [sa, sb], ([a, b]) => ops[op](a, b), { positive: op === 'div' });
add('sum all', [[3, 5, 7, 9]], ([x]) => ops.sum(x));
add('sum all (large)', [[8, 52, 48, 48]], ([x]) => ops.sum(x));
add('mean [2,3] keepdim', [[4, 52, 12, 12]], ([x]) => ops.mean(x, [2, 3], true));
add('sum [0]', [[32, 52, 6]], ([x]) => ops.sum(x, [0]));
add('mean [1]', [[5, 300, 7]], ([x]) => ops.mean(x, [1]));
add('sum [0, 2]', [[6, 5, 40]], ([x]) => ops.sum(x, [0, 2]));
add('sumToShape', [[4, 3, 5, 6]], ([x]) => ops.sumToShape(x, [3, 1, 1]));
add('logSumExp dim 1', [[4, 6, 5]], ([x]) => ops.logSumExp(x, 1));
add('logSumExp dim -1', [[7, 33]], ([x]) => ops.logSumExp(x, -1, true));
add('cat dim 1', [[2, 3, 4, 5], [2, 1, 4, 5], [2, 2, 4, 5]], (xs) => ops.cat(xs, 1));
add('cat dim 0', [[1, 3, 4], [2, 3, 4]], (xs) => ops.cat(xs, 0));
add('split dim 1', [[2, 7, 3, 3]], ([x]) => ops.cat(ops.split(x, [2, 5], 1).map((t, i) => ops.mulScalar(t, i + 1)), 1));
add('reshape', [[2, 3, 4]], ([x]) => ops.mul(ops.reshape(x, [6, 4]), ops.reshape(x, [6, 4])));
add('pixelShuffle 2', [[2, 8, 5, 6]], ([x]) => ops.pixelShuffle(x, 2));
add('pixelShuffle 3', [[1, 18, 4, 3]], ([x]) => ops.pixelShuffle(x, 3));
add('pixelUnshuffle 2', [[2, 3, 6, 8]], ([x]) => ops.pixelUnshuffle(x, 2));
add('l1Loss mean', [[2, 3, 16, 16], [2, 3, 16, 16]], ([a, b]) => ops.l1Loss(a, b));
add('l1Loss sum', [[2, 3, 7, 5], [2, 3, 7, 5]], ([a, b]) => ops.l1Loss(a, b, 'sum'));
add('avgPool2d k2', [[2, 3, 10, 12]], ([x]) => ops.avgPool2d(x, 2));
add('avgPool2d k3 s1 p1', [[2, 3, 9, 7]], ([x]) => ops.avgPool2d(x, 3, 1, 1));
add('maxPool2d k2', [[2, 3, 10, 12]], ([x]) => ops.maxPool2d(x, 2));
add('maxPool2d k3 s2 p1', [[2, 3, 9, 7]], ([x]) => ops.maxPool2d(x, 3, 2, 1));
add('matmul', [[33, 70], [70, 45]], ([a, b]) => ops.matmul(a, b));
add('linear (SE fc)', [[32, 52], [4, 52], [4]], ([x, w, b]) => ops.linear(x, w, b));
add('linear 3-D', [[3, 5, 70], [65, 70], [65]], ([x, w, b]) => ops.linear(x, w, b));
add('resize ×0.25 cubic antialias', [[1, 3, 40, 36]], ([x]) => ops.imresize(x, { scale: 0.25 }), { noF64: false });
add('resize ×3 cubic', [[1, 2, 7, 9]], ([x]) => ops.imresize(x, { scale: 3 }));
add('filter2d', [[2, 3, 12, 10], [2, 5, 5]], ([x, k]) => ops.filter2d(x, k), { noGradOf: [1] });
add('filter2d (kernel > image)', [[1, 2, 4, 5], [1, 9, 7]], ([x, k]) => ops.filter2d(x, k), { noGradOf: [1] });
add('squeezeExcite fused (MPF-Net SE)', [[2, 52, 15, 13], [4, 52], [4], [52, 4], [52]], ([x, w1, b1, w2, b2]) => ops.squeezeExcite(x, w1, b1, w2, b2));
add('squeezeExcite fused (48², several blocks per image)', [[1, 16, 48, 48], [4, 16], [4], [16, 4], [16]], ([x, w1, b1, w2, b2]) => ops.squeezeExcite(x, w1, b1, w2, b2));
add('conv2dWithMeans then squeezeExcite on its means (MPF-Net block tail)', [[2, 8, 11, 9], [8, 8, 3, 3], [8], [4, 8], [4], [8, 4], [8]],
  ([x, w, b, w1, b1, w2, b2]) => {
    const { y, means } = ops.conv2dWithMeans(x, w, b, { padding: 1 });
    return ops.squeezeExcite(y, w1, b1, w2, b2, means);
  });
add('squeezeExcite fused (no biases)', [[3, 7, 5, 4], [2, 7], [7, 2]], ([x, w1, w2]) => ops.squeezeExcite(x, w1, null, w2, null));
add('crSimilarity (3 anchors, 5 samples)', [[3, 16, 6, 7], [5, 16, 6, 7]], ([a, b]) => ops.crSimilarity(a, b, [2, 0, 2, 1, 2]));
add('crSimilarity (an anchor without samples)', [[3, 4, 5, 5], [2, 4, 5, 5]], ([a, b]) => ops.crSimilarity(a, b, [1, 1]));
const convs = [
  // name, input part channels, out, kernel, options
  ['conv 3×3 p1', [8], 12, 3, { padding: 1 }],
  ['conv 1×1', [52], 52, 1, {}],
  ['conv 3×3 d3 p3', [13], 9, 3, { padding: 3, dilation: 3 }],
  ['conv 3×3 d9 p9', [6], 5, 3, { padding: 9, dilation: 9 }],
  ['conv stride 2', [5], 7, 3, { stride: 2, padding: 1 }],
  ['conv 2×5 kernel s[1,2] p[1,2]', [4], 6, [2, 5], { stride: [1, 2], padding: [1, 2] }],
  ['conv two parts (CPB c1)', [6, 6], 6, 3, { padding: 1 }],
  ['conv five parts (fuse)', [4, 4, 4, 4, 4], 4, 1, {}],
  ['conv nine parts', [2, 1, 2, 1, 2, 1, 2, 1, 2], 3, 3, { padding: 1 }],
  ['conv no bias', [3], 4, 3, { padding: 1, noBias: true }],
  // Bias + SELU in the plugin's epilogue: with cuDNN one pass after it, in the own kernels' store.
  ['conv + SELU (CPB c1)', [6, 6], 6, 3, { padding: 1, activation: 'selu' }],
  ['conv + SELU, no bias', [5], 4, 3, { padding: 1, noBias: true, activation: 'selu' }],
  ['conv + SELU, nine parts (concatenated first)', [2, 1, 2, 1, 2, 1, 2, 1, 2], 3, 3, { padding: 1, activation: 'selu' }],
  ['conv 52→208 (upsampler)', [52], 208, 3, { padding: 1 }],
];
for (const [name, parts, out, k, o] of convs) {
  const [kh, kw] = Array.isArray(k) ? k : [k, k];
  const cin = parts.reduce((a, b) => a + b, 0);
  const shapes = [...parts.map((c) => [2, c, 15, 13]), [out, cin, kh, kw], ...(o.noBias ? [] : [[out]])];
  add(name, shapes, (xs) => {
    const xsIn = xs.slice(0, parts.length);
    const w = xs[parts.length];
    const b = o.noBias ? null : xs[parts.length + 1];
    return ops.conv2d(xsIn.length === 1 ? xsIn[0] : xsIn, w, b, o);
  }, { conv: true });
}

// Runs one case on a device; returns [output, ...input gradients] as float64 arrays.
function runCase(c, dtype, device, withGrad) {
  return tidy(() => {
    const inputs = c.shapes.map((s, i) => {
      let t = ops.randn(s, { generator: g(100 + i), dtype });
      if (c.positive) t = ops.addScalar(ops.abs(t), 0.5);
      t = t.to(device);
      const grad = withGrad && !(c.noGradOf ?? []).includes(i);
      if (grad) t.requiresGrad_();
      return t;
    });
    const y = c.f(inputs);
    const out = [y.toFloat64Array()];
    if (withGrad) {
      const w = ops.randn(y.shape, { generator: g(7), dtype }).to(device);
      ops.sum(ops.mul(y, w)).backward();
      for (const t of inputs) if (t.requiresGrad) out.push(t.grad.toFloat64Array());
    }
    return out;
  });
}

function parity(engines) {
  log('op parity (CUDA vs CPU):');
  for (const c of cases) {
    if (args.only && !args.only.test(c.name)) continue;
    for (const dtype of ['float32', 'float64']) {
      const runs = c.conv ? engines : [null];
      for (const engine of runs) {
        if (engine) cuda.cudaOptions({ convEngine: engine });
        const label = `${c.name} ${dtype}${engine ? ` [${engine === 'auto' ? 'default engine' : 'own kernels'}]` : ''}`;
        try {
          const ref = runCase(c, dtype, 'cpu', true);
          const got = runCase(c, dtype, 'cuda', true);
          const errs = ref.map((r, i) => relErr(got[i], r));
          record(report.parity, label, Math.max(...errs), { outputs: errs.length });
        } catch (e) {
          record(report.parity, label, Infinity, { error: String(e.message ?? e) });
        }
      }
    }
  }
  if (engines.length > 1) cuda.cudaOptions({ convEngine: 'auto' });
}

// Ops without gradients or with exact expectations.
function extras() {
  log('random fills, copies, noise, adam:');
  const same = (name, f) => {
    if (args.only && !args.only.test(name)) return;
    try {
      const a = tidy(() => f('cpu'));
      const b = tidy(() => f('cuda'));
      record(report.parity, name, Math.max(...a.map((x, i) => relErr(b[i], x))));
    } catch (e) {
      record(report.parity, name, Infinity, { error: String(e.message ?? e) });
    }
  };
  for (const dtype of ['float32', 'float64']) {
    same(`rand ${dtype}`, (d) => [ops.rand([4097], { generator: g(3), dtype, device: d, low: -2, high: 5 }).toFloat64Array()]);
    same(`randn ${dtype}`, (d) => [ops.randn([4097], { generator: g(4), dtype, device: d, mean: 1, std: 3 }).toFloat64Array()]);
    same(`full / zeros ${dtype}`, (d) => [ops.full([3, 5], -2.5, { dtype, device: d }).toFloat64Array(), ops.zeros([7], { dtype, device: d }).toFloat64Array()]);
    same(`astype from ${dtype}`, (d) => [ops.randn([100], { generator: g(5), dtype }).to(d).astype(dtype === 'float32' ? 'float64' : 'float32').toFloat64Array()]);
    same(`gaussianNoise ${dtype}`, (d) => [ops.gaussianNoise(ops.rand([2, 3, 8, 8], { generator: g(6), dtype }).to(d), [0.1, 0.2], { generator: g(8), grey: [false, true], clip: true }).toFloat64Array()]);
    same(`poissonNoise ${dtype} (host path)`, (d) => [ops.poissonNoise(ops.rand([2, 3, 8, 8], { generator: g(6), dtype }).to(d), [1, 0.5], { generator: g(9) }).toFloat64Array()]);
    same(`crSamples ${dtype}`, (d) => {
      const x = ops.rand([2, 3, 9, 11], { generator: g(11), dtype }).to(d);
      const k = ops.rand([4, 5, 5], { generator: g(12), dtype }).to(d);
      const o = { source: [1, 0, 1, 0], factor: [2, 0, 1.5, 0], sigma: [0, 0.05, 0, 0.1], keep: [1, 0, 0, 2], generator: g(13) };
      return [ops.crSamples(x, k, o).toFloat64Array(), ops.crSamples(x, k, { ...o, clip: false, generator: g(14) }).toFloat64Array()];
    });
    same(`adamUpdate ×3 ${dtype}`, (d) => {
      const p = ops.randn([1000], { generator: g(10), dtype }).to(d);
      const m = ops.zeros([1000], { dtype, device: d });
      const v = ops.zeros([1000], { dtype, device: d });
      for (let step = 1; step <= 3; step++) {
        const grad = ops.randn([1000], { generator: g(20 + step), dtype }).to(d);
        ops.adamUpdate(p, grad, m, v, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step });
      }
      return [p.toFloat64Array(), m.toFloat64Array(), v.toFloat64Array()];
    });
  }
}

// NCCL smoke test: the MPI plugin's NCCL path on this one GPU, as a singleton MPI job
// of one rank: rank 0 makes the unique id, MPI broadcasts it, the communicator is joined on
// device 0, and 1 Mi floats go host -> GPU -> ncclAllReduce -> host; the mean over one rank must
// give back the input exactly. Skipped (with the reason in the report) when the plugin was not
// built here: it needs MPI (libopenmpi-dev) and NCCL (nccl.h, libnccl) at build time.
async function ncclSmoke() {
  log('NCCL all-reduce (1 GPU, 1 rank):');
  let mpi;
  try {
    const { loadMpiPlugin } = await load('lib/distributed/mpi-plugin.js');
    mpi = loadMpiPlugin('the GPU check tests NCCL');
  } catch (e) {
    report.nccl = { status: 'skipped', reason: String(e.message ?? e).split('\n').slice(0, 2).join(' ') };
    log(`  skipped: ${report.nccl.reason}`);
    return;
  }
  if (!mpi.ncclInit) {
    report.nccl = { status: 'skipped', reason: 'the MPI plugin was built without NCCL (nccl.h, libnccl or the CUDA runtime not found)' };
    log(`  skipped: ${report.nccl.reason}`);
    return;
  }
  try {
    const job = mpi.init();
    const { version } = mpi.ncclInit(0);
    const x = Float32Array.from({ length: 1 << 20 }, (_, i) => Math.sin(i * 0.37) * 3 + 0.5);
    const y = x.slice();
    const r = await mpi.ncclAllreduceMean(y);
    let bad = 0;
    for (let i = 0; i < x.length; i++) if (y[i] !== x[i]) bad++;
    report.nccl = { status: bad ? 'failed' : 'passed', version, ranks: job.size, mpi: job.library, bytes: r.bytes, seconds: r.seconds, mismatches: bad };
    if (bad) report.failures.push(`NCCL all-reduce: ${bad} of ${x.length} elements changed`);
    log(`  ${bad ? 'FAIL' : 'ok  '} NCCL ${version}: ${r.bytes} bytes in ${(r.seconds * 1000).toFixed(2)} ms, ${bad} mismatches`);
    mpi.finalize();
  } catch (e) {
    report.nccl = { status: 'failed', error: String(e.message ?? e) };
    report.failures.push(`NCCL all-reduce: ${e.message ?? e}`);
    log(`  FAIL ${e.message ?? e}`);
  }
}

// The default model: forward, every parameter's gradient, three Adam steps, on both devices.
// float64 is the strict check (each tensor within TOL): rounding differences there are ~1e-15, far
// from changing a branch. In float32 they are ~1e-6, which flips the odd element across SELU's
// and ReLU's kinks (their derivatives jump at 0) and so changes single gradient elements by O(1);
// a per-tensor max error then says little, so float32 is judged on the relative L2 error over all
// tensors together (each tensor's worst is reported too).
function modelParity(dtype, size) {
  log(`full model (default ×4, ${dtype}; batch 2, ${size}×${size}):`);
  const cfg = { scale: 4 };
  const mc = createModel(cfg, { seed: 1, dtype });
  const mg = createModel(cfg, { seed: 1, dtype, device: 'cuda' });
  const oc = new Adam(mc.parameters(), { lr: 1e-4 });
  const og = new Adam(mg.parameters(), { lr: 1e-4 });
  const x = ops.rand([2, 3, size, size], { generator: g(2), dtype });
  const y = ops.rand([2, 3, 4 * size, 4 * size], { generator: g(3), dtype });
  const xg = x.to('cuda');
  const yg = y.to('cuda');
  const res = { dtype, size, criterion: dtype === 'float64' ? 'each tensor' : 'relative L2 over all tensors', checks: [] };
  const names = [...mc.namedParameters()].map(([n]) => n);
  // Compares lists of tensors; records the criterion's error and reports the worst tensor.
  const compare = (label, gpu, cpu) => {
    let worst = { err: 0, name: '' };
    let diff2 = 0;
    let ref2 = 0;
    for (let i = 0; i < cpu.length; i++) {
      const a = gpu[i].toFloat64Array();
      const b = cpu[i].toFloat64Array();
      const e = relErr(a, b);
      if (!(e <= worst.err)) worst = { err: e, name: names[i] };
      for (let k = 0; k < b.length; k++) {
        diff2 += (a[k] - b[k]) ** 2;
        ref2 += b[k] ** 2;
      }
    }
    const l2 = Math.sqrt(diff2 / Math.max(ref2, 1e-300));
    const err = dtype === 'float64' ? worst.err : l2;
    record(res.checks, `${label} (${cpu.length} tensors; worst ${worst.name} ${worst.err.toExponential(1)}, L2 ${l2.toExponential(1)})`, err);
  };
  for (let step = 1; step <= 3; step++) {
    oc.zeroGrad();
    og.zeroGrad();
    tidy(() => {
      const outc = mc.forward(x);
      const outg = mg.forward(xg);
      if (step === 1) record(res.checks, 'model forward', relErr(outg.toFloat64Array(), outc.toFloat64Array()));
      const lc = ops.l1Loss(outc, y);
      const lg = ops.l1Loss(outg, yg);
      record(res.checks, `step ${step} loss`, relErr(lg.toFloat64Array(), lc.toFloat64Array()));
      lc.backward();
      lg.backward();
    });
    compare(`step ${step} gradients`, mg.parameters().map((p) => p.grad), mc.parameters().map((p) => p.grad));
    oc.step();
    og.step();
    compare(`step ${step} Adam parameters`, mg.parameters(), mc.parameters());
  }
  res.worst = Math.max(...res.checks.map((c) => c.relErr));
  for (const t of [x, y, xg, yg]) t.dispose();
  oc.dispose?.();
  og.dispose?.();
  mc.dispose();
  mg.dispose();
  return res;
}

// ---------------------------------------------------------------------------------------------
// Benchmarks: the default model's training step (batch 32, 48×48, ×4) and inference on 256×256.
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

function timeIt(fn, iters, warmup) {
  for (let i = 0; i < warmup; i++) fn();
  cuda.cudaSynchronize();
  const ms = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    fn();
    cuda.cudaSynchronize();
    ms.push(performance.now() - t0);
  }
  return { median: median(ms), min: Math.min(...ms), mean: ms.reduce((a, b) => a + b, 0) / ms.length, samples: ms.length };
}

// The paper's shapes, or tiny ones (--tiny-bench) to exercise this code on the CPU emulation.
const B = args.tinyBench ? { batch: 1, size: 8, infer: 16 } : { batch: 32, size: 48, infer: 256 };

// The benchmark's two workloads for `model` (default ×4): a training step (batch B.batch, B.size²,
// L1, Adam) and one inference pass on 1 × B.infer²; each with the dispose that frees its tensors.
function trainingStep(model) {
  const opt = new Adam(model.parameters(), { lr: 1e-4 });
  const x = ops.rand([B.batch, 3, B.size, B.size], { generator: g(2), device: 'cuda' });
  const y = ops.rand([B.batch, 3, 4 * B.size, 4 * B.size], { generator: g(3), device: 'cuda' });
  const step = () => {
    tidy(() => {
      opt.zeroGrad();
      ops.l1Loss(model.forward(x), y).backward();
    });
    opt.step();
  };
  const dispose = () => {
    opt.zeroGrad();
    opt.dispose?.();
    x.dispose();
    y.dispose();
  };
  return { step, dispose };
}

function inferencePass(model) {
  const x = ops.rand([1, 3, B.infer, B.infer], { generator: g(4), device: 'cuda' });
  return { step: () => noGrad(() => tidy(() => void model.forward(x))), dispose: () => x.dispose() };
}

function benchOurs(iters) {
  const out = {};
  const scale = 4;
  const model = createModel({ scale }, { seed: 1, device: 'cuda' });
  const macsTrain = summary(model, [B.size, B.size], B.batch).macs;
  const train = trainingStep(model);
  const t = timeIt(train.step, iters, 3);
  out.train = { ...t, batch: B.batch, size: B.size, scale, tflops: (3 * 2 * macsTrain) / (t.median * 1e9) };
  train.dispose();
  model.eval();
  const macs = summary(model, [B.infer, B.infer], 1).macs;
  const infer = inferencePass(model);
  const ti = timeIt(infer.step, iters, 3);
  out.infer = { ...ti, batch: 1, size: B.infer, scale, tflops: (2 * macs) / (ti.median * 1e9) };
  infer.dispose();
  out.engine = cuda.cudaOptions().engine;
  out.peakDeviceBytes = cuda.cudaMemory().allocated + cuda.cudaMemory().cached;
  model.dispose();
  return out;
}

// The inference pass as a CUDA graph (lib/cuda.ts CudaGraph): its output against the eager pass's
// (the same kernels on the same data: expected bit-identical), and its time per replay including
// the copy of the input. The gap to the eager time is what the host's per-op cost took.
function benchGraph(iters) {
  const model = createModel({ scale: 4 }, { seed: 1, device: 'cuda' });
  model.eval();
  const x = ops.rand([1, 3, B.infer, B.infer], { generator: g(4), device: 'cuda' });
  const eager = noGrad(() => tidy(() => model.forward(x)));
  const graph = cuda.CudaGraph.capture((input) => model.forward(input), x);
  try {
    const out = graph.run(x);
    const a = out.toFloat64Array();
    const b = eager.toFloat64Array();
    let maxAbs = 0;
    for (let i = 0; i < a.length; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
    const err = relErr(a, b);
    const t = timeIt(() => void graph.run(x), iters, 3);
    const macs = summary(model, [B.infer, B.infer], 1).macs;
    return { infer: { ...t, batch: 1, size: B.infer, scale: 4, tflops: (2 * macs) / (t.median * 1e9) }, relErrVsEager: err, maxAbsDiffVsEager: maxAbs };
  } finally {
    graph.dispose();
    eager.dispose();
    x.dispose();
    model.dispose();
  }
}

// The fused squeeze-excitation (2 launches forward, 3 backward) against the composite path it
// replaced (mean, linear, relu, linear, sigmoid, mul and their backwards), at the training shape.
function benchFusedSe(iters) {
  const shape = [B.batch, 52, B.size, B.size];
  const se = new SqueezeExcite(52, { generator: g(5) });
  se.to('cuda');
  const x = ops.randn(shape, { generator: g(6), device: 'cuda' }).requiresGrad_();
  const w = ops.randn(shape, { generator: g(7), device: 'cuda' });
  const out = { shape };
  for (const path of ['fused', 'composite']) {
    const fwd = (t) => (path === 'fused' ? se.forward(t) : se.forwardComposite(t));
    const forward = timeIt(() => noGrad(() => tidy(() => void fwd(x))), iters, 3);
    const train = timeIt(() => tidy(() => {
      ops.sum(ops.mul(fwd(x), w)).backward();
      x.grad?.dispose();
      x.grad = null;
      se.zeroGrad();
    }), iters, 3);
    out[path] = { forwardMs: forward.median, trainMs: train.median };
  }
  out.speedup = { forward: out.composite.forwardMs / out.fused.forwardMs, train: out.composite.trainMs / out.fused.trainMs };
  x.dispose();
  w.dispose();
  se.dispose();
  return out;
}

// A CPB block's first convolution (two 52-channel parts -> 52, 3×3) with bias + SELU in the
// convolution's epilogue, against the same convolution followed by a separate SELU op.
function benchConvSelu(iters) {
  const shape = [B.batch, 52, B.size, B.size];
  const xs = [ops.rand(shape, { generator: g(6), device: 'cuda' }), ops.rand(shape, { generator: g(7), device: 'cuda' })];
  const w = tidy(() => ops.mul(ops.rand([52, 104, 3, 3], { generator: g(8), device: 'cuda' }), 0.05));
  const b = ops.rand([52], { generator: g(9), device: 'cuda' });
  const fused = timeIt(() => noGrad(() => tidy(() => void ops.conv2d(xs, w, b, { padding: 1, activation: 'selu' }))), iters, 3);
  const separate = timeIt(() => noGrad(() => tidy(() => void ops.selu(ops.conv2d(xs, w, b, { padding: 1 })))), iters, 3);
  for (const t of [...xs, w, b]) t.dispose();
  return { shape, fusedMs: fused.median, separateMs: separate.median };
}

// The PyTorch peer (pytorch_peer.py) on the benchmark's shapes: its JSON answer, or {error}.
function runPeer(extra) {
  const py = args.python ?? process.env.PYTHON ?? 'python3';
  const req = JSON.stringify({ warmup: 3, batch: B.batch, size: B.size, inferSize: B.infer, scale: 4, ...extra });
  const r = spawnSync(py, [join(here, 'pytorch_peer.py')], { input: req, encoding: 'utf8', maxBuffer: 16 << 20, cwd: root });
  if (r.status !== 0) return { error: `${py} test/gpu/pytorch_peer.py failed (${r.status ?? r.error?.message}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}` };
  try {
    return JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
  } catch (e) {
    return { error: `unreadable peer output: ${e.message}` };
  }
}

// With MPFNET_CUDA_SYNC=1 (run.sh's default, for the parity checks) every op waits for the GPU, which
// would time launches and waits instead of the GPU's work: the benchmarks then run in a child
// process with MPFNET_CUDA_SYNC=0 (the plugin reads it once, at start), and its bench joins this report.
function benchInChild() {
  const file = join(root, 'bench', 'results', 'tmp', `gpu-bench-${process.pid}.json`);
  const pass = ['--bench-only', '--report', file];
  for (const k of ['iters', 'python', 'dist']) if (args[k] !== undefined) pass.push(`--${k}`, String(args[k]));
  for (const [k, flag] of [['quick', '--quick'], ['tinyBench', '--tiny-bench'], ['tf32', '--tf32']]) if (args[k]) pass.push(flag);
  log('benchmarks: in a child process with MPFNET_CUDA_SYNC=0');
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...pass], { stdio: 'inherit', env: { ...process.env, MPFNET_CUDA_SYNC: '0' } });
  try {
    const child = JSON.parse(readFileSync(file, 'utf8'));
    report.bench = { ...child.bench, sync: 'MPFNET_CUDA_SYNC=0 (child process)', childMemory: child.memory };
    for (const f of child.failures ?? []) report.failures.push(`benchmark child: ${f}`);
    rmSync(file, { force: true });
  } catch (e) {
    report.bench = { error: `the benchmark child failed (status ${r.status ?? r.error?.message}): ${e.message}` };
    report.failures.push(report.bench.error);
  }
}

function bench() {
  const iters = args.iters ?? (args.quick ? 5 : 20);
  const tf32 = Boolean(args.tf32);
  log(`benchmarks (${iters} timed runs each, TF32 ${tf32 ? 'allowed on both sides' : 'off'}):`);
  cuda.cudaOptions({ allowTf32: tf32 });
  const ours = benchOurs(iters);
  log(`  mpfnet   train step b${B.batch} ${B.size}×${B.size} ×4: ${ours.train.median.toFixed(1)} ms   inference ${B.infer}×${B.infer} ×4: ${ours.infer.median.toFixed(1)} ms   (${ours.engine})`);
  const torch = runPeer({ iters, tf32 });
  const b = { ours, torch, ratios: {} };
  try {
    b.oursGraph = benchGraph(iters);
    const r = b.oursGraph;
    log(`  mpfnet   inference ${B.infer}×${B.infer} ×4 as a CUDA graph: ${r.infer.median.toFixed(1)} ms (eager ${ours.infer.median.toFixed(1)} ms); output vs eager: max |diff| ${r.maxAbsDiffVsEager.toExponential(2)}`);
    if (!(r.relErrVsEager <= TOL)) report.failures.push(`CUDA graph inference differs from eager: relative error ${r.relErrVsEager}`);
  } catch (e) {
    b.oursGraph = { error: String(e.message ?? e) };
    log(`  CUDA graph inference failed: ${b.oursGraph.error}`);
  }
  if (torch.error) {
    log(`  PyTorch peer unavailable: ${torch.error}`);
  } else {
    for (const mode of ['eager', 'benchmark']) {
      const t = torch[mode];
      if (!t) continue;
      b.ratios[mode] = { train: t.train.median / ours.train.median, infer: t.infer.median / ours.infer.median };
      if (b.oursGraph?.infer) b.ratios[mode].inferGraph = t.infer.median / b.oursGraph.infer.median;
      log(`  PyTorch ${torch.version} (cudnn.benchmark=${mode === 'benchmark'}): train ${t.train.median.toFixed(1)} ms, inference ${t.infer.median.toFixed(1)} ms -> speed ratio train ${b.ratios[mode].train.toFixed(2)}×, inference ${b.ratios[mode].infer.toFixed(2)}×${b.ratios[mode].inferGraph ? ` (our graph ${b.ratios[mode].inferGraph.toFixed(2)}×)` : ''}${t.inferGraph?.median ? `; PyTorch's own CUDA graph inference ${t.inferGraph.median.toFixed(1)} ms` : ''}`);
    }
    const r = b.ratios.eager;
    if (r) b.targets = { trainAtLeastEager: r.train >= 1, inferAtLeast1_2x: r.infer >= 1.2, inferGraphAtLeast1_2x: (r.inferGraph ?? 0) >= 1.2 };
  }
  try {
    b.fusedSe = benchFusedSe(iters);
    const f = b.fusedSe;
    log(`  squeeze-excitation [${f.shape}] fused vs composite: forward ${f.fused.forwardMs.toFixed(3)} vs ${f.composite.forwardMs.toFixed(3)} ms, forward + backward ${f.fused.trainMs.toFixed(3)} vs ${f.composite.trainMs.toFixed(3)} ms`);
  } catch (e) {
    b.fusedSe = { error: String(e.message ?? e) };
    log(`  squeeze-excitation bench failed: ${b.fusedSe.error}`);
  }
  try {
    b.convSelu = benchConvSelu(iters);
    const f = b.convSelu;
    log(`  conv + SELU [${f.shape}] epilogue vs conv then selu: ${f.fusedMs.toFixed(3)} vs ${f.separateMs.toFixed(3)} ms`);
  } catch (e) {
    b.convSelu = { error: String(e.message ?? e) };
  }
  // Our own convolution kernels in place of cuDNN, at the same shapes (fewer runs): what a machine
  // without cuDNN gets, and how far the own implicit-GEMM kernels are from cuDNN.
  if (report.cuda.cudnn) {
    try {
      cuda.cudaOptions({ convEngine: 'own' });
      const own = benchOurs(Math.min(iters, 5));
      b.oursOwnKernels = { train: own.train, infer: own.infer };
      log(`  mpfnet, own convolution kernels: train step ${own.train.median.toFixed(1)} ms, inference ${own.infer.median.toFixed(1)} ms`);
    } catch (e) {
      b.oursOwnKernels = { error: String(e.message ?? e) };
    } finally {
      cuda.cudaOptions({ convEngine: 'auto' });
    }
  }
  b.peaks = publishedPeaks(report.cuda.device);
  if (b.peaks) {
    b.shareOfPeak = {
      trainFp32: ours.train.tflops / b.peaks.fp32,
      inferFp32: ours.infer.tflops / b.peaks.fp32,
      trainTf32: ours.train.tflops / b.peaks.tf32,
      inferTf32: ours.infer.tflops / b.peaks.tf32,
    };
  }
  // The paper's schedule (docs/model.md §4): 200k iterations of stage 1 and 300k of stage 2 at batch
  // 32, at this step time (stage 2's contrastive term not counted: a lower bound).
  b.projectedSchedule = { iterations: 500000, hours: (500000 * ours.train.median) / 3.6e6, note: 'train step median × 500k; stage 2 contrastive term not included' };
  log(`  paper schedule (500k steps of batch 32) at this step time: ${b.projectedSchedule.hours.toFixed(1)} h`);
  report.bench = b;
}

// Dense (no sparsity) TFLOP/s from NVIDIA's H100/H200 datasheets; null for other cards.
function publishedPeaks(name) {
  const n = String(name ?? '');
  if (/H100.*PCIe/i.test(n)) return { fp32: 51, tf32: 378, source: 'NVIDIA H100 PCIe datasheet, dense' };
  if (/H100|H200/i.test(n)) return { fp32: 67, tf32: 495, source: 'NVIDIA H100/H200 SXM datasheet, dense' };
  return null;
}

// ---------------------------------------------------------------------------------------------
function cpuHalf() {
  // Without CUDA: the CPU side of every case still runs, so the harness itself is exercised.
  log('CPU half (CUDA unavailable): every case on the CPU, and the model step');
  let n = 0;
  for (const c of cases) {
    for (const dtype of ['float32', 'float64']) {
      const r = runCase(c, dtype, 'cpu', true);
      if (!r.every((a) => a.every(Number.isFinite))) report.failures.push(`${c.name} ${dtype}: non-finite CPU result`);
      n++;
    }
  }
  tidy(() => {
    const m = createModel({ scale: 4 }, { seed: 1 });
    const x = ops.rand([1, 3, 12, 12], { generator: g(2) });
    const y = ops.rand([1, 3, 48, 48], { generator: g(3) });
    ops.l1Loss(m.forward(x), y).backward();
    const finite = m.parameters().every((p) => p.grad.toFloat64Array().every(Number.isFinite));
    if (!finite) report.failures.push('model: non-finite CPU gradient');
    m.dispose();
  });
  report.cpuHalf = { cases: n, model: 'ran' };
  log(`  ${n} case runs and one model step on the CPU`);
}

function writeReport(name) {
  const text = JSON.stringify(report, null, 2) + '\n';
  const targets = args.report ? [resolve(args.report)] : [join(root, 'bench', 'results', name)];
  for (const d of args.out) targets.push(join(resolve(d), basename(name)));
  for (const f of targets) {
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f + '.tmp', text);
    execFileSync('mv', [f + '.tmp', f]);
    log(`report: ${f}`);
  }
}

// ---------------------------------------------------------------------------------------------
// --profile: where the benchmark's time goes. Every native call is wrapped and timed by kind
// (convolutions by weight shape and pass). With MPFNET_CUDA_SYNC=1 each call waits for its kernels,
// so a kind's time is its GPU time plus one launch and sync; with 0 it is what the host spends
// launching, which shows whether a step is bound by the host rather than the GPU.
async function profile() {
  const { native } = await load('bindings/index.js');
  const stats = new Map();
  let recording = false;
  let nativeMs = 0;
  const shapeOf = (h) => (typeof h === 'number' ? native.info(h).shape.join('x') : '?');
  const key = (name, a) => {
    if (name === 'conv2dForward' || name === 'conv2dForwardMeans' || name === 'conv2dBackward') {
      const xs = a[1];
      return `${name} w[${shapeOf(a[2])}] d${a[6][0]} x[${shapeOf(xs[0])}]${xs.length > 1 ? ` ×${xs.length} parts` : ''}${typeof a[7] === 'string' && a[7] !== 'none' ? ` +${a[7]}` : ''}`;
    }
    return /^(unary|binary|reduce)/.test(name) && typeof a[1] === 'string' ? `${name} ${a[1]}` : name;
  };
  for (const name of Object.keys(native)) {
    const f = native[name];
    if (typeof f !== 'function' || name === 'info') continue;
    native[name] = function (...a) {
      if (!recording) return f.apply(this, a);
      const t0 = performance.now();
      const r = f.apply(this, a);
      const dt = performance.now() - t0;
      nativeMs += dt;
      const k = key(name, a);
      const e = stats.get(k) ?? { calls: 0, ms: 0 };
      e.calls++;
      e.ms += dt;
      stats.set(k, e);
      return r;
    };
  }
  const measure = (label, step, steps) => {
    for (let i = 0; i < 2; i++) step();
    cuda.cudaSynchronize();
    stats.clear();
    nativeMs = 0;
    recording = true;
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    cuda.cudaSynchronize();
    const total = (performance.now() - t0) / steps;
    recording = false;
    const calls = [...stats.values()].reduce((n, e) => n + e.calls, 0) / steps;
    const top = [...stats].sort((p, q) => q[1].ms - p[1].ms).slice(0, 30).map(([k, e]) => ({ kind: k, ms: e.ms / steps, calls: e.calls / steps }));
    log(`profile ${label} (MPFNET_CUDA_SYNC=${process.env.MPFNET_CUDA_SYNC ?? '0'}): ${total.toFixed(1)} ms per step, native calls ${(nativeMs / steps).toFixed(1)} ms in ${calls} calls`);
    for (const t of top.slice(0, 30)) log(`  ${t.ms.toFixed(2).padStart(8)} ms ${String(t.calls).padStart(5)}×  ${t.kind}`);
    return { msPerStep: total, nativeMsPerStep: nativeMs / steps, callsPerStep: calls, top };
  };
  const out = { sync: process.env.MPFNET_CUDA_SYNC ?? '0' };
  const model = createModel({ scale: 4 }, { seed: 1, device: 'cuda' });
  const train = trainingStep(model);
  out.train = measure(`train step b${B.batch} ${B.size}²`, train.step, 3);
  train.dispose();
  model.eval();
  const infer = inferencePass(model);
  out.infer = measure(`inference ${B.infer}²`, infer.step, 5);
  infer.dispose();
  model.dispose();
  out.torch = runPeer({ profile: true, iters: 3 });
  if (!out.torch.error) {
    for (const mode of ['train', 'infer']) {
      log(`PyTorch ${mode}: ${out.torch[mode + 'KernelMsPerStep'].toFixed(1)} ms of GPU activity per step; top CUDA kernels (ms per step)`);
      for (const k of out.torch[mode].slice(0, 25)) log(`  ${k.ms.toFixed(2).padStart(8)} ms ${String(k.calls).padStart(5)}×  ${k.name.slice(0, 110)}`);
    }
  }
  report.profile = out;
}

const status = cuda.cudaAvailable();
report.cuda = status;
if (!status.available) {
  log(`CUDA unavailable: ${status.reason}`);
  cpuHalf();
  report.status = report.failures.length ? 'failed' : 'cuda-unavailable';
  writeReport(args.report ? 'gpu-dry-run.json' : join('tmp', 'gpu-dry-run.json'));
  process.exit(report.failures.length ? 1 : args.allowNoCuda ? 0 : 2);
}

log(`CUDA: ${status.device} (cc ${status.computeCapability}), driver ${status.driver}, runtime ${status.runtime}, cuDNN ${status.cudnn ?? `none (own convolution kernels: ${status.cudnnNote ?? 'no reason recorded'})`}`);
// run.sh sets MPFNET_REQUIRE_CUDNN on a GPU machine: a cuDNN that was built in but failed to load
// (cudnnNote) would otherwise make every number below measure the own kernels without saying so.
if (process.env.MPFNET_REQUIRE_CUDNN === 'ON' && !status.cudnn) {
  log(`FAIL: cuDNN was expected but is not in use: ${status.cudnnNote ?? 'unknown reason'}`);
  report.failures.push(`cudnn: expected but not in use (${status.cudnnNote ?? 'unknown reason'})`);
}
cuda.cudaOptions({ allowTf32: false, convEngine: 'auto' });
if (args.profile) {
  await profile();
  writeReport(`gpu-profile-sync${process.env.MPFNET_CUDA_SYNC ?? '0'}.json`);
  process.exit(0);
}
const baseline = { cudaBytes: memory().cudaBytes, tensors: memory().tensors, allocated: cuda.cudaMemory().allocated };
if (!args.benchOnly) {
  parity(status.cudnn ? ['auto', 'own'] : ['auto']);
  extras();
  if (!args.only) await ncclSmoke();
  if (!args.only) report.model = [modelParity('float64', 16), modelParity('float32', 24)];
}
const after = { cudaBytes: memory().cudaBytes, tensors: memory().tensors, allocated: cuda.cudaMemory().allocated, cached: cuda.cudaMemory().cached };
emptyCache();
after.cachedAfterEmpty = cuda.cudaMemory().cached;
const memOk = after.cudaBytes === baseline.cudaBytes && after.allocated === baseline.allocated && after.tensors === baseline.tensors && after.cachedAfterEmpty === 0;
report.memory = { baseline, after, pass: memOk };
log(`device memory: ${memOk ? 'ok  ' : 'FAIL'} tensors ${after.tensors} (baseline ${baseline.tensors}), live bytes ${after.cudaBytes} (baseline ${baseline.cudaBytes}), allocator ${after.allocated} (baseline ${baseline.allocated}), cached ${after.cached} -> ${after.cachedAfterEmpty} after emptyCache`);
if (!memOk) report.failures.push('device memory did not return to its baseline');
if (!args.noBench && !args.only) {
  if (process.env.MPFNET_CUDA_SYNC === '1') benchInChild();
  else bench();
}
report.status = report.failures.length ? 'failed' : 'passed';
log(report.failures.length ? `FAILED: ${report.failures.length} check(s)\n  ${report.failures.join('\n  ')}` : 'all checks passed');
writeReport(`gpu-${slug(status.device)}${args.tf32 ? '-tf32' : ''}.json`);
process.exit(report.failures.length ? 1 : 0);
