// Where the time of an MPF-Net step goes: wraps every native call, runs a few training steps (or
// inference passes) of the default ×4 model, and prints the time per call kind (convolutions by
// shape and pass), what the native calls add up to, and the rest (JavaScript: tape, scopes,
// handles). docs/performance.md quotes it.
//
//   npx tsc -p tsconfig.bench.json
//   MPFNET_NUM_THREADS=2 node dist/bench/profile-step.js [train|infer] [batch] [size] [steps]
// CPU=1 measures process CPU time instead of wall time (steadier on a busy machine at 1 thread);
// PRECISION=strict|fp32|bf16 sets the inference precision (default 'fp32', the upscaler's).
import { native } from '../bindings/index.js';
import { Generator, noGrad, rand, tidy } from '../lib/index.js';
import { createModel } from '../lib/models/mpfnet/mpfnet.js';
import { l1Loss } from '../lib/ops/index.js';
import { Adam } from '../lib/optim/adam.js';
import { checkInferencePrecision, setInferencePrecision } from '../lib/infer/precision.js';

const [mode = 'train', batchArg = '1', sizeArg = '48', stepsArg = '5'] = process.argv.slice(2);
const batch = Number(batchArg);
const size = Number(sizeArg);
const steps = Number(stepsArg);
const cpu = process.env.CPU === '1';
const now = cpu ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } : () => performance.now();

type Fn = (...args: unknown[]) => unknown;
const addon = native as unknown as Record<string, unknown>;
const info = (native.info as Fn).bind(native) as (h: number) => { shape: number[] };
const shapeOf = (h: unknown) => (typeof h === 'number' ? info(h).shape.join('x') : '?');
const stats = new Map<string, { calls: number; ms: number }>();
let recording = false;
let nativeMs = 0;

/** A readable key: convolutions by weight shape, dilation and pass; other ops by name. */
function key(name: string, a: unknown[]): string {
  if (name === 'conv2dForward' || name === 'conv2dBackward') {
    const xs = a[1] as number[];
    const pass = name === 'conv2dForward' ? 'forward' : 'backward';
    const act = name === 'conv2dForward' && typeof a[7] === 'string' && a[7] !== 'none' ? ` +${a[7]}` : '';
    return `conv2d ${pass}${act} w[${shapeOf(a[2])}] d${(a[6] as number[])[0]} x[${shapeOf(xs[0])}]${xs.length > 1 ? ` ×${xs.length} parts` : ''}`;
  }
  if (/^(unary|binary|reduce)/.test(name) && typeof a[1] === 'string') return `${name} ${a[1]}`;
  return name;
}

for (const name of Object.keys(addon)) {
  const f = addon[name];
  if (typeof f !== 'function') continue;
  addon[name] = function (this: unknown, ...a: unknown[]) {
    if (!recording) return (f as Fn).apply(this, a);
    const t0 = now();
    const r = (f as Fn).apply(this, a);
    const dt = now() - t0;
    nativeMs += dt;
    const k = key(name, a);
    const s = stats.get(k) ?? { calls: 0, ms: 0 };
    s.calls++;
    s.ms += dt;
    stats.set(k, s);
    return r;
  };
}

const model = createModel({ scale: 4 }, { seed: 1 });
const x = rand([batch, 3, size, size], { generator: new Generator(2) });
let step: () => void;
if (mode === 'train') {
  const opt = new Adam(model.parameters(), { lr: 1e-4 });
  const y = rand([batch, 3, 4 * size, 4 * size], { generator: new Generator(3) });
  step = () => {
    tidy(() => {
      opt.zeroGrad();
      l1Loss(model.forward(x), y).backward();
    });
    opt.step();
  };
} else {
  model.eval();
  setInferencePrecision(checkInferencePrecision(process.env.PRECISION ?? 'fp32', 'PRECISION'));
  step = () => noGrad(() => tidy(() => void model.forward(x)));
}

for (let i = 0; i < 2; i++) step();
recording = true;
const times: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = now();
  step();
  times.push(now() - t0);
}
const total = times.reduce((a, b) => a + b, 0);
console.log(
  `${mode} batch ${batch} ${size}x${size}, ${cpu ? 'CPU' : 'wall'} ms per step: ${times.map((t) => t.toFixed(0)).join(' ')}; ` +
    `native calls ${(nativeMs / steps).toFixed(0)}, the rest (JavaScript) ${((total - nativeMs) / steps).toFixed(0)}`,
);
for (const [k, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env.TOP ?? 25))) {
  console.log(`${(s.ms / steps).toFixed(1).padStart(8)} ms ${((100 * s.ms) / total).toFixed(1).padStart(5)}% ${String(s.calls / steps).padStart(6)}×  ${k}`);
}
