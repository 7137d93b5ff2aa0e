#!/usr/bin/env node
// The linux-arm64 prebuilt binary, checked under emulation (npm run check:arm64):
// 1. runs the op checks and the default-model golden forward (this file with --emit) three times:
//    on this machine with its own addon (x64: what bindings/index.ts loads, $MPFNET_ADDON if set), and under `qemu-aarch64 -L build-arm64/sysroot` with Debian's
//    arm64 Node and prebuilds/linux-arm64/mpfnet.glibc.node, once with the CPU's best SIMD path (NEON when the
//    addon has it) and once forced onto the portable path (MPFNET_SIMD=scalar);
// 2. every run checks itself against PyTorch (test/fixtures/conv2d.json, mpfnet-x4.json);
// 3. compares every output element of the arm64 runs with the x64 run and prints the largest differences.
// Fails when any difference exceeds 1e-4 (relative to the tensor's largest magnitude). Exit code 2 means
// the emulation is unavailable (no qemu-aarch64, no sysroot, no arm64 prebuild) and says how to get it.
// Needs dist/ (npx tsc -p tsconfig.json), `npm run prebuild:arm64`, and node test/arm64/sysroot.mjs.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOLERANCE = 1e-4;
const ARM64_ADDON = join(root, 'prebuilds', 'linux-arm64', 'mpfnet.glibc.node');
const SYSROOT = process.env.MPFNET_ARM64_SYSROOT ?? join(root, 'build-arm64', 'sysroot');

// ---------------------------------------------------------------------------------------------
// Worker: runs the checks with whatever addon bindings/index.ts loads ($MPFNET_ADDON), writes JSON.
// Only modules that do not need sharp are imported: sharp has no arm64 binary in this node_modules.

async function emit(outFile) {
  const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
  const ops = await dist('lib/ops/index.js');
  const { tidy } = await dist('lib/autograd/scope.js');
  const { createModel } = await dist('lib/models/mpfnet/mpfnet.js');
  const { Adam } = await dist('lib/optim/adam.js');
  const { uniform01 } = await dist('lib/random.js');
  const { memory, simdLevel } = await dist('lib/memory.js');

  let seedCounter = 1000;
  /** Seeded uniform values in [lo, hi), the same on every machine (no platform RNG involved). */
  const seeded = (shape, { dtype = 'float32', lo = -1, hi = 1, grad = false, seed = seedCounter++ } = {}) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = Float64Array.from({ length: n }, (_, i) => lo + (hi - lo) * uniform01(seed, i));
    return ops.tensor(dtype === 'float32' ? Float32Array.from(v) : v, shape, { dtype, requiresGrad: grad });
  };
  const values = (t) => Array.from(t.dtype === 'float64' ? t.toFloat64Array() : t.toFloat32Array());

  const results = {};
  const record = (name, fn) => {
    const started = Date.now();
    tidy(() => {
      const out = fn();
      results[name] = Object.fromEntries(Object.entries(out).map(([k, t]) => [k, values(t)]));
    });
    results[name].ms = [Date.now() - started];
  };
  /** Forward plus the gradient of sum(y * r) for every input that requires one. */
  const withGrads = (inputs, f) => {
    const y = f(...Object.values(inputs));
    const r = seeded(y.shape, { dtype: y.dtype, seed: 7 });
    ops.sum(ops.mul(y, r)).backward();
    const out = { y };
    for (const [k, t] of Object.entries(inputs)) if (t.requiresGrad) out[`d${k}`] = t.grad;
    return out;
  };

  for (const dtype of ['float32', 'float64']) {
    record(`matmul ${dtype}`, () => withGrads({ a: seeded([37, 53], { dtype, grad: true }), b: seeded([53, 29], { dtype, grad: true }) }, ops.matmul));
    for (const algo of ['auto', 'gemm', 'winograd', 'winograd2', 'direct']) {
      const before = ops.setConvAlgorithm(algo);
      try {
        record(`conv2d 3x3 ${algo} ${dtype}`, () => withGrads(
          { x: seeded([2, 16, 13, 11], { dtype, grad: true }), w: seeded([24, 16, 3, 3], { dtype, grad: true, lo: -0.3, hi: 0.3 }), b: seeded([24], { dtype, grad: true }) },
          (x, w, b) => ops.conv2d(x, w, b, { padding: 1 })));
      } finally {
        ops.setConvAlgorithm(before);
      }
    }
    record(`conv2d 1x1 ${dtype}`, () => withGrads({ x: seeded([1, 52, 9, 10], { dtype, grad: true }), w: seeded([13, 52, 1, 1], { dtype, grad: true }) }, (x, w) => ops.conv2d(x, w)));
    record(`conv2d dilated strided ${dtype}`, () => withGrads(
      { x: seeded([1, 6, 17, 15], { dtype, grad: true }), w: seeded([5, 6, 3, 3], { dtype, grad: true }) },
      (x, w) => ops.conv2d(x, w, null, { stride: [2, 1], padding: [3, 2], dilation: [3, 2] })));
    for (const op of ['relu', 'sigmoid', 'tanh', 'exp', 'selu', 'abs', 'square']) {
      record(`${op} ${dtype}`, () => withGrads({ x: seeded([3, 1031], { dtype, grad: true, lo: -4, hi: 4 }) }, ops[op]));
    }
    record(`log sqrt ${dtype}`, () => withGrads({ x: seeded([1031], { dtype, grad: true, lo: 0.05, hi: 9 }) }, (x) => ops.add(ops.log(x), ops.sqrt(x))));
    record(`leakyRelu ${dtype}`, () => withGrads({ x: seeded([517], { dtype, grad: true }) }, (x) => ops.leakyRelu(x, 0.2)));
    record(`binary broadcast ${dtype}`, () => withGrads(
      { a: seeded([4, 1, 33], { dtype, grad: true }), b: seeded([5, 1], { dtype, grad: true, lo: 0.5, hi: 2 }) },
      (a, b) => ops.add(ops.mul(a, b), ops.div(a, b))));
    record(`sum mean logSumExp ${dtype}`, () => {
      const x = seeded([6, 7, 45], { dtype, grad: true });
      // Three reductions weighted into one scalar, so one backward covers all of them.
      const weigh = (y, seed) => ops.sum(ops.mul(y, seeded(y.shape, { dtype, seed })));
      return withGrads({ x }, (t) => ops.add(ops.add(weigh(ops.sum(t, [0, 2]), 11), weigh(ops.mean(t, 1), 12)), weigh(ops.logSumExp(t, 2), 13)));
    });
    record(`maxPool2d avgPool2d ${dtype}`, () => withGrads({ x: seeded([2, 3, 14, 13], { dtype, grad: true }) },
      (x) => ops.add(ops.maxPool2d(x, 3, 2, 1), ops.avgPool2d(x, 3, 2, 1))));
    record(`imresize cubic ${dtype}`, () => ({ down: ops.imresize(seeded([1, 3, 40, 36], { dtype }), { scale: 0.25 }), up: ops.imresize(seeded([1, 3, 10, 9], { dtype }), { scale: 3 }) }));
    record(`l1Loss ${dtype}`, () => withGrads({ p: seeded([2, 3, 19, 17], { dtype, grad: true }), t: seeded([2, 3, 19, 17], { dtype }) }, (p, t) => ops.l1Loss(p, t)));
  }
  record('adam 3 steps float32', () => {
    const p = seeded([4099], { grad: true });
    const opt = new Adam([p], { lr: 1e-2 });
    for (let k = 0; k < 3; k++) {
      opt.zeroGrad();
      tidy(() => ops.sum(ops.mul(ops.square(p), seeded([4099], { seed: 77 + k }))).backward());
      opt.step();
    }
    const w = ops.mulScalar(p, 1);
    opt.dispose();
    return { w };
  });

  // PyTorch's conv2d (test/fixtures/conv2d.json, gen_conv2d.py): every case in float64 with gradients of
  // sum(y * w) (gen_ops.py's weights) and in float32 forward; worst relative error over all of them.
  const torch = { conv2dFloat64: 0, conv2dFloat32: 0, goldenForward: 0 };
  const relErr = (got, want) => {
    const scale = Math.max(...want.map(Math.abs), 1e-30);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
    if (got.length !== want.length) return Infinity;
    return worst;
  };
  const fixtureWeights = (shape, dtype) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return ops.tensor(Float64Array.from({ length: n }, (_, i) => ((37 * i) % 17) / 8 - 0.9), shape, { dtype });
  };
  const conv = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'conv2d.json'), 'utf8')).cases;
  for (const c of conv) {
    for (const dtype of ['float64', 'float32']) {
      tidy(() => {
        const leaves = c.inputs.map((s) => ops.tensor(s.data, s.shape, { dtype, requiresGrad: dtype === 'float64' }));
        const n = c.params.parts;
        const xs = leaves.slice(0, n);
        const y = ops.conv2d(n === 1 ? xs[0] : xs, leaves[n], c.params.bias ? leaves[n + 1] : null,
          { stride: c.params.stride, padding: c.params.padding, dilation: c.params.dilation, activation: c.params.activation ?? 'none' });
        const key = dtype === 'float64' ? 'conv2dFloat64' : 'conv2dFloat32';
        torch[key] = Math.max(torch[key], relErr(values(y), c.outputs[0].data));
        if (dtype === 'float64' && c.grads) {
          y.backward(fixtureWeights(y.shape, dtype));
          c.grads.forEach((g, i) => {
            if (g) torch[key] = Math.max(torch[key], leaves[i].grad ? relErr(values(leaves[i].grad), g.data) : Infinity);
          });
        }
      });
    }
  }

  // The default model (the default x4 MPF-Net, test/fixtures/mpfnet-x4.json from gen_mpfnet.py): seeded init,
  // forward on the seeded input, compared with PyTorch's output summary as test/mpfnet-golden.test.ts does.
  const fx = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'mpfnet-x4.json'), 'utf8'));
  const started = Date.now();
  const model = createModel(fx.config, { seed: fx.seed });
  try {
    tidy(() => {
      const x = seeded(fx.input.shape, { lo: 0, hi: 1, seed: fx.input.seed });
      const out = values(model.forward(x));
      results['golden x4 forward'] = { y: out, ms: [Date.now() - started] };
      let ss = 0;
      let dot = 0;
      for (let i = 0; i < out.length; i++) {
        ss += out[i] * out[i];
        dot += out[i] * (uniform01(fx.rseed, i) - 0.5);
      }
      const norm = Math.sqrt(ss);
      const rms = fx.output.norm / Math.sqrt(out.length);
      let worst = Math.max(Math.abs(norm - fx.output.norm) / fx.output.norm,
        Math.abs(dot - fx.output.dot) / Math.max(Math.abs(fx.output.dot), fx.output.norm * 0.29));
      fx.output.sample.forEach((w, k) => (worst = Math.max(worst, Math.abs(out[k * fx.output.stride] - w) / Math.max(Math.abs(w), rms * 1e-2))));
      torch.goldenForward = worst;
    });
  } finally {
    model.dispose();
  }
  writeFileSync(outFile, JSON.stringify({ arch: process.arch, node: process.version, simd: simdLevel(), torch, tensorsLeft: memory().tensors, results }));
}

// ---------------------------------------------------------------------------------------------
// Driver.

function unavailable(message) {
  console.error(`check:arm64 unavailable: ${message}`);
  process.exit(2);
}

/** Runs this file with --emit under cmd (a Node, or qemu with one); resolves with its results and seconds. */
function worker(label, cmd, args, env, outFile) {
  const started = Date.now();
  return new Promise((resolveRun) => {
    const child = spawn(cmd, [...args, fileURLToPath(import.meta.url), '--emit', outFile], {
      cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('error', (e) => {
      console.error(`check:arm64: cannot start the ${label} run: ${e.message}`);
      process.exit(1);
    });
    child.on('close', (code, signal) => {
      if (code !== 0) {
        console.error(`check:arm64: the ${label} run failed (${code ?? signal})\n${log}`);
        process.exit(1);
      }
      const out = JSON.parse(readFileSync(outFile, 'utf8'));
      out.seconds = (Date.now() - started) / 1000;
      resolveRun(out);
    });
  });
}

/** Largest |a - b| over one result, absolute and relative to the reference tensor's largest magnitude. */
function compare(a, b) {
  let abs = 0;
  let rel = 0;
  for (const key of Object.keys(b)) {
    if (key === 'ms') continue;
    const x = a[key];
    const y = b[key];
    if (!x || x.length !== y.length) return { abs: Infinity, rel: Infinity };
    const scale = Math.max(...y.map(Math.abs), 1e-30);
    for (let i = 0; i < y.length; i++) {
      const d = Math.abs(x[i] - y[i]);
      if (!(d <= abs)) abs = d; // also catches NaN
      if (!(d / scale <= rel)) rel = d / scale;
    }
  }
  return { abs, rel };
}

async function drive() {
  const qemu = spawnSync('qemu-aarch64', ['--version'], { encoding: 'utf8' });
  if (qemu.status !== 0) unavailable('qemu-aarch64 is missing (Debian: apt-get install qemu-user)');
  const armNode = join(SYSROOT, 'usr', 'bin', 'node');
  if (!existsSync(armNode)) unavailable(`no arm64 Node in ${relative(root, SYSROOT)} (run: node test/arm64/sysroot.mjs)`);
  if (!existsSync(ARM64_ADDON)) unavailable(`no ${relative(root, ARM64_ADDON)} (run: npm run prebuild:arm64)`);
  if (!existsSync(join(root, 'dist', 'lib', 'ops', 'index.js'))) unavailable('no dist/ (run: npx tsc -p tsconfig.json)');

  const tmp = mkdtempSync(join(tmpdir(), 'mpfnet-arm64-'));
  try {
    // The three runs at once: the emulated ones are the slow part, and each is mostly one thread.
    const emulated = ['-L', SYSROOT, armNode];
    const [x64, arm, portable] = await Promise.all([
      worker('x64', process.execPath, [], {}, join(tmp, 'x64.json')),
      worker('arm64', 'qemu-aarch64', emulated, { MPFNET_ADDON: ARM64_ADDON }, join(tmp, 'arm64.json')),
      worker('arm64 portable', 'qemu-aarch64', emulated, { MPFNET_ADDON: ARM64_ADDON, MPFNET_SIMD: 'scalar' }, join(tmp, 'arm64-portable.json')),
    ]);
    const runs = [['arm64', arm], ['arm64 portable', portable]];
    let failed = false;
    const line = (...cols) => console.log(cols.map((c, i) => (i === 0 ? String(c).padEnd(34) : String(c).padStart(22))).join(''));
    console.log(`x64: Node ${x64.node}, SIMD ${x64.simd}, ${x64.seconds.toFixed(1)} s; ` +
      runs.map(([l, r]) => `${l}: Node ${r.node} under qemu-aarch64, SIMD ${r.simd}, ${r.seconds.toFixed(1)} s`).join('; '));
    for (const r of [x64, ...runs.map(([, r]) => r)]) {
      if (r.tensorsLeft !== 0) {
        console.log(`FAIL: ${r.arch} SIMD ${r.simd} left ${r.tensorsLeft} tensors alive`);
        failed = true;
      }
    }
    console.log('\nagainst PyTorch (worst relative error)');
    line('check', 'x64', ...runs.map(([l]) => l));
    for (const key of Object.keys(x64.torch)) {
      const tol = key === 'conv2dFloat64' ? 1e-9 : TOLERANCE;
      const vals = [x64, ...runs.map(([, r]) => r)].map((r) => r.torch[key]);
      if (vals.some((v) => !(v <= tol))) failed = true;
      line(`${key} (<= ${tol})`, ...vals.map((v) => v.toExponential(2)));
    }
    console.log('\narm64 against x64, every output element (max |diff|, and relative to the largest |x64| value)');
    line('op', ...runs.map(([l]) => l));
    for (const name of Object.keys(x64.results)) {
      const cells = runs.map(([, r]) => {
        const d = compare(r.results[name] ?? {}, x64.results[name]);
        if (!(d.rel <= TOLERANCE)) failed = true;
        return `${d.abs.toExponential(1)} / ${d.rel.toExponential(1)}${d.rel <= TOLERANCE ? '' : ' FAIL'}`;
      });
      line(name, ...cells);
    }
    const golden = runs.map(([l, r]) => `${l} ${compare(r.results['golden x4 forward'], x64.results['golden x4 forward']).abs.toExponential(2)}`);
    console.log(`\ngolden x4 forward, max |arm64 - x64|: ${golden.join(', ')}; against PyTorch: ` +
      runs.map(([l, r]) => `${l} ${r.torch.goldenForward.toExponential(2)}`).join(', '));
    console.log(failed ? '\ncheck:arm64 FAILED' : `\ncheck:arm64 passed (tolerance ${TOLERANCE})`);
    process.exit(failed ? 1 : 0);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const at = process.argv.indexOf('--emit');
if (at >= 0) await emit(process.argv[at + 1]);
else await drive();
