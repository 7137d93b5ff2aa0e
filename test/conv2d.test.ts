import { describe, expect, it } from 'vitest';
import { native } from '../bindings/index.js';
import * as mp from '../lib/index.js';
import { withInferencePrecision } from '../lib/infer/precision.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';
import { checkAgainstTorch, fromStored, loadFixture, type FixtureCase } from './helpers/fixtures.js';
import { simdLevels } from './helpers/simd-levels.js';

type Pair = number | [number, number];
interface Cfg {
  name: string;
  batch: number;
  parts: number[];
  cout: number;
  hw: [number, number];
  k: Pair;
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  bias?: boolean;
}

const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** Float64 leaves for a config: the parts, the weight (scaled like a fan-in init) and the bias. */
function leaves(c: Cfg, seed: number, dtype: mp.DType = 'float64'): { xs: mp.Tensor[]; w: mp.Tensor; b: mp.Tensor | null } {
  const [kh, kw] = pair(c.k);
  const cin = c.parts.reduce((a, b) => a + b, 0);
  const cast = (t: mp.Tensor) => {
    if (dtype === 'float64') return t;
    const u = t.astype(dtype);
    u.requiresGrad = true;
    return u;
  };
  const xs = c.parts.map((ch, j) => cast(randLeaf([c.batch, ch, ...c.hw], seed + j)));
  const w = cast(randLeaf([c.cout, cin, kh, kw], seed + 100, { scale: 1 / Math.sqrt(cin * kh * kw) }));
  const b = c.bias === false ? null : cast(randLeaf([c.cout], seed + 200));
  return { xs, w, b };
}

const opts = (c: Cfg): mp.ConvOptions => ({ stride: c.stride ?? 1, padding: c.padding ?? 0, dilation: c.dilation ?? 1 });

function run(c: Cfg, xs: mp.Tensor[], w: mp.Tensor, b: mp.Tensor | null): mp.Tensor {
  return mp.conv2d(xs.length === 1 ? xs[0]! : xs, w, b, opts(c));
}

/** Root mean square: the floor for relative errors of long float32 sums (see expectClose). */
function rms(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s / v.length);
}

describe('conv2d gradients match finite differences (float64)', () => {
  const cfgs: Cfg[] = [
    { name: '3x3 pad 1, odd sizes, batch 2', batch: 2, parts: [3], cout: 4, hw: [7, 9], k: 3, padding: 1 },
    { name: '3x3 stride 2', batch: 2, parts: [2], cout: 3, hw: [9, 8], k: 3, stride: 2, padding: 1 },
    { name: '3x3 stride 2 no padding, no bias', batch: 1, parts: [3], cout: 2, hw: [8, 7], k: 3, stride: 2, bias: false },
    { name: 'dilation 2', batch: 1, parts: [2], cout: 3, hw: [9, 10], k: 3, padding: 2, dilation: 2 },
    { name: 'dilation 3', batch: 2, parts: [2], cout: 2, hw: [10, 9], k: 3, padding: 3, dilation: 3 },
    { name: 'dilation 6', batch: 1, parts: [2], cout: 2, hw: [13, 11], k: 3, padding: 6, dilation: 6 },
    { name: 'dilation 9', batch: 1, parts: [2], cout: 2, hw: [11, 12], k: 3, padding: 9, dilation: 9 },
    { name: '1x1', batch: 2, parts: [4], cout: 3, hw: [5, 7], k: 1 },
    { name: '1x1 over parts of 2, 3 and 1 channels', batch: 2, parts: [2, 3, 1], cout: 3, hw: [4, 5], k: 1 },
    { name: '3x3 over parts of 3 and 2 channels', batch: 2, parts: [3, 2], cout: 3, hw: [6, 5], k: 3, padding: 1 },
    { name: '5x3 kernel, stride (2, 1), padding (1, 2), dilation (1, 2)', batch: 1, parts: [2], cout: 2, hw: [9, 8], k: [5, 3], stride: [2, 1], padding: [1, 2], dilation: [1, 2] },
    { name: 'padding wider than the kernel reach', batch: 1, parts: [2], cout: 2, hw: [4, 5], k: 3, padding: 4 },
  ];
  for (const c of cfgs) {
    it(c.name, () => {
      mp.tidy(() => {
        const { xs, w, b } = leaves(c, 11);
        const inputs = [...xs, w, ...(b ? [b] : [])];
        gradcheck((...t) => run(c, t.slice(0, xs.length), t[xs.length]!, b ? t[xs.length + 1]! : null), inputs);
      });
    });
  }

  // Winograd runs in float64 too when forced, so its three passes (the weight pass being the
  // adjoint of the forward transforms) are checked against finite differences like the loops.
  const winogradCfgs: Cfg[] = [
    { name: '3x3 pad 1, odd sizes, batch 2', batch: 2, parts: [3], cout: 4, hw: [7, 9], k: 3, padding: 1 },
    { name: '3x3 no padding, no bias', batch: 1, parts: [2], cout: 3, hw: [10, 7], k: 3, bias: false },
    { name: '3x3 over parts of 3 and 2 channels', batch: 2, parts: [3, 2], cout: 3, hw: [6, 5], k: 3, padding: 1 },
    { name: '3x3 padding 2 (wider than the kernel reach of F(2x2) tiles)', batch: 1, parts: [2], cout: 2, hw: [5, 6], k: 3, padding: 2 },
    { name: '3x3, 9 tiles across (blocks straddle tile rows)', batch: 2, parts: [2], cout: 17, hw: [9, 35], k: 3, padding: 1 },
  ];
  // 'lattice': the dilated forward on its sub-lattices (gather, plain convolution, scatter), in
  // float64 with the direct loops inside; the lattices of these sizes are uneven (13 = 2 x 6 + 1).
  const latticeCfgs: Cfg[] = [
    ...cfgs.filter((c) => c.name.startsWith('dilation ')),
    { name: 'dilation (2, 3) over parts of 2 and 1 channels', batch: 2, parts: [2, 1], cout: 2, hw: [8, 7], k: 3, padding: [2, 3], dilation: [2, 3] },
  ];
  const forced: [mp.ConvAlgorithm, Cfg[]][] = [['winograd', winogradCfgs], ['winograd2', winogradCfgs], ['winograd6', winogradCfgs], ['winograd8', winogradCfgs], ['lattice', latticeCfgs]];
  for (const [algo, list] of forced) {
    for (const c of list) {
      it(`${algo}: ${c.name}`, () => {
        const before = mp.setConvAlgorithm(algo);
        try {
          mp.tidy(() => {
            const { xs, w, b } = leaves(c, 13);
            const inputs = [...xs, w, ...(b ? [b] : [])];
            gradcheck((...t) => run(c, t.slice(0, xs.length), t[xs.length]!, b ? t[xs.length + 1]! : null), inputs);
          });
        } finally {
          mp.setConvAlgorithm(before);
        }
      });
    }
  }

  it('the same tensor twice in the parts gets the sum of both gradients', () => {
    mp.tidy(() => {
      const a = randLeaf([1, 2, 5, 6], 3);
      const w = randLeaf([3, 4, 3, 3], 4, { scale: 0.3 });
      gradcheck((x, ww) => mp.conv2d([x, x], ww, null, { padding: 1 }), [a, w]);
    });
  });
});

// Tolerances per algorithm and output (relative, floored at the rms: see expectClose). F(4x4, 3x3)
// rounds ~10x more than a direct sum (measured up to 4e-5 at these sizes), F(2x2, 3x3) like it,
// F(6x6, 3x3) ~10x more than F(4x4) (native/tools/check_conv2d: up to 8e-5), F(8x8, 3x3) ~10x more
// again (check_conv2d: up to 6e-4). Forced 'lattice' runs the implicit GEMM on the lattices, so it
// rounds like 'gemm'.
type Algo = 'auto' | 'gemm' | 'winograd' | 'winograd2' | 'winograd6' | 'winograd8' | 'lattice';
function tolerance(algo: Algo, output: string): number {
  if (algo === 'winograd6' || algo === 'winograd8') return 1e-3;
  if (algo === 'winograd') return 1e-4;
  // auto: F(4x4) for both gradients and for the forwards that keep or narrow their channels
  // (native/cpu/conv2d.cc, conv2d_algo); its input gradient gets F(4x4)'s bound, the forward and
  // the weight gradient stay inside 1e-5 at these shapes. At 24x24 F(4x4) has 36 tiles, which
  // AVX-512 runs in 16-column GEMM panels (conv2d_winograd.cc, run_conv).
  if (algo === 'auto' && output.startsWith('gx')) return 1e-4;
  return 1e-5;
}

describe.each(['auto', 'gemm', 'winograd', 'winograd2', 'winograd6', 'winograd8', 'lattice'] as const)('conv2d float32 agrees with float64 at MPF-Net sizes on every SIMD level (%s)', (algo: Algo) => {
  const cfgs: Cfg[] = [
    { name: 'C52 3x3 d1 24x24', batch: 1, parts: [52], cout: 52, hw: [24, 24], k: 3, padding: 1 },
    { name: 'C52 3x3 d3 30x26 batch 2', batch: 2, parts: [52], cout: 52, hw: [30, 26], k: 3, padding: 3, dilation: 3 },
    { name: 'C52 3x3 d6 48x48', batch: 1, parts: [52], cout: 52, hw: [48, 48], k: 3, padding: 6, dilation: 6 },
    { name: 'C52 3x3 d9 40x36', batch: 1, parts: [52], cout: 52, hw: [40, 36], k: 3, padding: 9, dilation: 9 },
    { name: 'CPB c1: 52 + 52 -> 52, 24x24', batch: 1, parts: [52, 52], cout: 52, hw: [24, 24], k: 3, padding: 1 },
    { name: 'fuse: 5 x 52 -> 52 1x1, 32x32', batch: 1, parts: [52, 52, 52, 52, 52], cout: 52, hw: [32, 32], k: 1 },
    { name: 'upsampler: 52 -> 208, 24x24', batch: 1, parts: [52], cout: 208, hw: [24, 24], k: 3, padding: 1 },
    { name: 'head 3 -> 52 and tail-like 52 -> 3', batch: 2, parts: [3], cout: 52, hw: [25, 27], k: 3, padding: 1 },
    { name: 'tail 52 -> 3', batch: 1, parts: [52], cout: 3, hw: [33, 31], k: 3, padding: 1 },
    { name: 'stride 2 (gradient through col2im)', batch: 2, parts: [16], cout: 24, hw: [25, 23], k: 3, stride: 2, padding: 1 },
  ];
  const levels = simdLevels();

  for (const c of cfgs) {
    it(c.name, () => {
      mp.tidy(() => {
        // The reference: float64 through the direct loops (forced Winograd modes apply to float64 too).
        const refAlgo = mp.setConvAlgorithm('direct');
        const ref = leaves(c, 21);
        const y64 = run(c, ref.xs, ref.w, ref.b);
        const gy64 = mp.randn([...y64.shape], { dtype: 'float64', generator: new mp.Generator(5) });
        y64.backward(gy64);
        mp.setConvAlgorithm(refAlgo);
        const expected = [y64, ...ref.xs.map((x) => x.grad!), ref.w.grad!, ...(ref.b ? [ref.b.grad!] : [])].map((t) => t.toFloat64Array());
        const names = ['y', ...ref.xs.map((_, j) => `gx[${j}]`), 'gw', 'gb'];
        const before = native.simd();
        const algoBefore = mp.setConvAlgorithm(algo);
        try {
          for (const level of levels) {
            native.setSimd(level);
            mp.tidy(() => {
              const cast = (t: mp.Tensor) => {
                const u = t.astype('float32');
                u.requiresGrad = true;
                return u;
              };
              const xs = ref.xs.map(cast);
              const w = cast(ref.w);
              const b = ref.b ? cast(ref.b) : null;
              const y = run(c, xs, w, b);
              y.backward(gy64.astype('float32'));
              const got = [y, ...xs.map((x) => x.grad!), w.grad!, ...(b ? [b.grad!] : [])].map((t) => t.toFloat32Array());
              got.forEach((g, i) => expectClose(g, expected[i]!, tolerance(algo, names[i]!), `${c.name} ${algo} ${level} ${names[i]}`, rms(expected[i]!)));
            });
          }
        } finally {
          native.setSimd(before);
          mp.setConvAlgorithm(algoBefore);
        }
      });
    });
  }
});

describe('conv2d matches PyTorch (golden fixtures)', () => {
  type ConvParams = { parts: number; bias: boolean; stride: mp.IntPair; padding: mp.IntPair; dilation: mp.IntPair; activation?: mp.ConvActivation };
  const cases = loadFixture<FixtureCase<ConvParams>>('conv2d');
  const apply = (c: FixtureCase<ConvParams>) => (...t: mp.Tensor[]) => {
    const n = c.params.parts;
    const xs = t.slice(0, n);
    return mp.conv2d(n === 1 ? xs[0]! : xs, t[n]!, c.params.bias ? t[n + 1]! : null, {
      stride: c.params.stride,
      padding: c.params.padding,
      dilation: c.params.dilation,
      activation: c.params.activation ?? 'none',
    });
  };
  for (const c of cases) {
    it(`${c.name} (float64)`, () => checkAgainstTorch(c, apply(c)));
    it(`${c.name} (float32, forward)`, () => {
      mp.tidy(() => {
        const y = apply(c)(...c.inputs.map((s) => fromStored(s, 'float32')));
        const want = c.outputs[0]!.data;
        expectClose(y.toFloat32Array(), want, 1e-5, c.name, rms(want));
      });
    });
  }
});

describe('conv2d autograd plumbing', () => {
  it('gives gradients only to inputs that require them and leaves memory flat', () => {
    const x = mp.randn([1, 4, 8, 8]);
    const frozen = mp.randn([1, 2, 8, 8]);
    const w = mp.randn([3, 6, 3, 3]).requiresGrad_();
    const b = mp.randn([3]).requiresGrad_();
    x.requiresGrad = true;
    const step = () =>
      mp.tidy(() => {
        const y = mp.conv2d([x, frozen], w, b, { padding: 1 });
        mp.sum(y).backward();
      });
    step();
    expect(frozen.grad).toBeNull();
    expect([...x.grad!.shape]).toEqual([1, 4, 8, 8]);
    expect([...w.grad!.shape]).toEqual([3, 6, 3, 3]);
    expect([...b.grad!.shape]).toEqual([3]);
    // Each output pixel contributes 1 to every bias: the gradient is the pixel count.
    expect(b.grad!.toArray()).toEqual([64, 64, 64]);
    const before = mp.memory();
    for (let i = 0; i < 20; i++) step();
    expect(mp.memory().tensors).toBe(before.tensors);
    expect(mp.memory().bytes).toBe(before.bytes);
    for (const t of [x, frozen, w, b]) t.dispose();
  });

  it('setConvAlgorithm switches the algorithm, returns the previous mode and rejects unknown ones', () => {
    const before = mp.getConvAlgorithm();
    try {
      expect(mp.setConvAlgorithm('gemm')).toBe(before);
      expect(mp.getConvAlgorithm()).toBe('gemm');
      expect(mp.setConvAlgorithm('winograd2')).toBe('gemm');
      expect(() => mp.setConvAlgorithm('fft' as mp.ConvAlgorithm)).toThrow(RangeError);
      expect(() => mp.setConvAlgorithm('fft' as mp.ConvAlgorithm)).toThrow(/conv2dAlgo: 'mode' must be auto, gemm, winograd, winograd2, winograd6, winograd8, lattice or direct, got 'fft'/);
      expect(() => native.conv2dAlgo(3 as unknown as mp.ConvAlgorithm)).toThrow(/'mode' must be a string/);
      expect(mp.getConvAlgorithm()).toBe('winograd2');
    } finally {
      mp.setConvAlgorithm(before);
    }
  });

  it('accepts numbers or [h, w] pairs and follows the output-size formula', () => {
    mp.tidy(() => {
      const x = mp.randn([2, 3, 11, 14]);
      const w = mp.randn([5, 3, 3, 2]);
      const y = mp.conv2d(x, w, null, { stride: [2, 3], padding: [1, 0], dilation: [2, 1] });
      // floor((11 + 2 - 2*2 - 1) / 2) + 1 = 5, floor((14 - 1 - 1) / 3) + 1 = 5
      expect([...y.shape]).toEqual([2, 5, 5, 5]);
    });
  });
});

describe('conv2d rejects bad input with typed errors naming the argument', () => {
  const x = () => mp.randn([1, 3, 6, 6]);
  const w = () => mp.randn([4, 3, 3, 3]);
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    ['x of rank 3', () => mp.conv2d(mp.randn([3, 6, 6]), w()), RangeError, /conv2d: 'x' must be 4-D/],
    ['weight of rank 2', () => mp.conv2d(x(), mp.randn([4, 27])), RangeError, /'weight' must be 4-D/],
    ['channel mismatch', () => mp.conv2d(x(), mp.randn([4, 5, 3, 3])), RangeError, /'weight' \[4, 5, 3, 3\] expects 5 input channels but the input has 3/],
    ['channel mismatch over parts', () => mp.conv2d([x(), mp.randn([1, 2, 6, 6])], w()), RangeError, /expects 3 input channels but the input has 3 \+ 2 = 5/],
    ['parts of different sizes', () => mp.conv2d([x(), mp.randn([1, 2, 6, 5])], mp.randn([4, 5, 3, 3])), RangeError, /'x\[1\]' has shape \[1, 2, 6, 5\]/],
    ['bias of the wrong length', () => mp.conv2d(x(), w(), mp.randn([3])), RangeError, /'bias' must have shape \[4\]/],
    ['negative padding', () => mp.conv2d(x(), w(), null, { padding: -1 }), RangeError, /'padding\[0\]' must be in \[0, /],
    ['zero stride', () => mp.conv2d(x(), w(), null, { stride: [1, 0] }), RangeError, /'stride\[1\]' must be in \[1, /],
    ['zero dilation', () => mp.conv2d(x(), w(), null, { dilation: 0 }), RangeError, /'dilation\[0\]' must be in \[1, /],
    ['fractional stride', () => mp.conv2d(x(), w(), null, { stride: 1.5 }), TypeError, /'stride\[0\]' must be an integer/],
    ['stride not a pair', () => mp.conv2d(x(), w(), null, { stride: [1, 2, 3] as unknown as [number, number] }), TypeError, /'stride' must be a number or an \[h, w\] pair/],
    ['output smaller than 1', () => mp.conv2d(x(), w(), null, { dilation: 4 }), RangeError, /output height would be -2 \(< 1\)/],
    ['absurd padding', () => mp.conv2d(mp.randn([1, 1, 2, 2]), mp.randn([1, 1, 1, 1]), null, { padding: 1 << 20 }), RangeError, /too large|over the limit/],
    ['mixed dtypes', () => mp.conv2d(x(), w().astype('float64')), TypeError, /'weight' is float64 but float32 is expected/],
    ['a non-tensor', () => mp.conv2d(x(), 3 as unknown as mp.Tensor), TypeError, /'weight' must be a Tensor/],
    ['an empty list', () => mp.conv2d([], w()), RangeError, /'x' must be a tensor or a non-empty array/],
  ];
  for (const [name, fn, type, msg] of cases) {
    it(name, () => {
      mp.tidy(() => {
        expect(fn).toThrow(type);
        expect(fn).toThrow(msg);
      });
    });
  }

  it('disposed inputs, weights and biases', () => {
    mp.tidy(() => {
      const a = x();
      const ww = w();
      const b = mp.randn([4]);
      a.dispose();
      expect(() => mp.conv2d(a, w())).toThrow(TypeError);
      expect(() => mp.conv2d(a, w())).toThrow(/'x' was disposed/);
      expect(() => mp.conv2d([x(), a], mp.randn([4, 6, 3, 3]))).toThrow(/'x\[1\]' was disposed/);
      b.dispose();
      expect(() => mp.conv2d(x(), ww, b)).toThrow(/'bias' was disposed/);
      ww.dispose();
      expect(() => mp.conv2d(x(), ww)).toThrow(/'weight' was disposed/);
    });
  });

  it('native: wrong device, bad gy, bad needInput', () => {
    mp.tidy(() => {
      const a = x();
      const ww = w();
      expect(() => native.conv2dForward('cuda', [a.handle], ww.handle, null, [1, 1], [0, 0], [1, 1])).toThrow(TypeError);
      expect(() => native.conv2dForward('cuda', [a.handle], ww.handle, null, [1, 1], [0, 0], [1, 1])).toThrow(/'x' is on cpu/);
      const gy = mp.randn([1, 4, 3, 3]);
      expect(() => native.conv2dBackward('cpu', [a.handle], ww.handle, gy.handle, [1, 1], [0, 0], [1, 1], true, true, true)).toThrow(/'gy' has shape \[1, 4, 3, 3\] but the output's shape is \[1, 4, 4, 4\]/);
      const gy2 = mp.randn([1, 4, 4, 4]);
      expect(() => native.conv2dBackward('cpu', [a.handle], ww.handle, gy2.handle, [1, 1], [0, 0], [1, 1], [true, false], true, true)).toThrow(/'needInput' has 2 entries but there are 1 input parts/);
      expect(() => native.conv2dForward('cpu', [a.handle], ww.handle, null, [1], [0, 0], [1, 1])).toThrow(/'stride' must have 2 entries/);
    });
  });
});

// At the inference precisions ('fp32', 'bf16') a dilated 3x3 forward with padding = dilation runs
// on its sub-lattices, as undilated convolutions that take Winograd (native/cpu/conv2d_lattice.cc),
// where each lattice is at least 16 pixels on a side. 'fp32' there rounds like F(4x4): checked
// against float64 in every element; differing from 'strict' shows the path ran (the implicit GEMM
// does not depend on the precision).
describe('dilated convolutions at the inference precisions (sub-lattices)', () => {
  const cfgs: Cfg[] = [
    { name: 'C52 d3 50x53 batch 2', batch: 2, parts: [52], cout: 52, hw: [50, 53], k: 3, padding: 3, dilation: 3 },
    { name: 'C52 d6 100x97', batch: 1, parts: [52], cout: 52, hw: [100, 97], k: 3, padding: 6, dilation: 6 },
    { name: '20 + 12 -> 24, d2 33x35', batch: 1, parts: [20, 12], cout: 24, hw: [33, 35], k: 3, padding: 2, dilation: 2 },
  ];
  for (const c of cfgs)
    for (const activation of ['none', 'selu'] as const)
      it(`'fp32' within F(4x4)'s rounding of float64 (${activation}): ${c.name}`, () => {
        mp.tidy(() => {
          const o = { ...opts(c), activation };
          const ref = leaves(c, 41);
          const y64 = mp.noGrad(() => mp.conv2d(ref.xs.length === 1 ? ref.xs[0]! : ref.xs, ref.w, ref.b, o)).toFloat64Array();
          const xs = ref.xs.map((t) => t.astype('float32'));
          const [w, b] = [ref.w.astype('float32'), ref.b!.astype('float32')];
          const x = xs.length === 1 ? xs[0]! : xs;
          const strict = mp.noGrad(() => mp.conv2d(x, w, b, o)).toFloat32Array();
          const fast = withInferencePrecision('fp32', () => mp.noGrad(() => mp.conv2d(x, w, b, o))).toFloat32Array();
          expectClose(fast, y64, 1e-4, `${c.name} fp32`, rms(y64));
          expect(fast.some((v, i) => v !== strict[i]), `${c.name}: 'fp32' took another path than 'strict'`).toBe(true);
        });
      });
});
// conv2d's fused activation (native/cpu/conv2d.h, Conv2dActivation): every algorithm applies SELU
// to the output as it writes it, with the unary op's own SELU kernel, so the fused result must
// equal conv2d followed by selu exactly; backward works from the output alone.
describe('conv2d with a fused activation (selu)', () => {
  const cfgs: Cfg[] = [
    { name: 'Block c1: 52 + 52 -> 52 3x3, 20x22', batch: 1, parts: [52, 52], cout: 52, hw: [20, 22], k: 3, padding: 1 },
    { name: 'C52 3x3 d3 17x19 batch 2', batch: 2, parts: [52], cout: 52, hw: [17, 19], k: 3, padding: 3, dilation: 3 },
    { name: '3x3 odd sizes, no bias', batch: 2, parts: [5], cout: 7, hw: [9, 11], k: 3, padding: 1, bias: false },
    { name: '1x1 over two parts', batch: 1, parts: [6, 4], cout: 9, hw: [7, 13], k: 1 },
    { name: 'stride 2', batch: 2, parts: [8], cout: 12, hw: [13, 11], k: 3, stride: 2, padding: 1 },
    // With 2+ threads the implicit GEMM splits this reduction into slices (the activation then runs
    // after the slices are summed, native/cpu/gemm.cc).
    { name: 'GEMM reduction slices: 156 -> 52, 12x12', batch: 1, parts: [156], cout: 52, hw: [12, 12], k: 3, padding: 1 },
  ];
  const levels = simdLevels();
  const fusedOpts = (c: Cfg): mp.ConvOptions => ({ ...opts(c), activation: 'selu' });

  for (const algo of ['auto', 'gemm', 'winograd', 'winograd2', 'winograd6', 'winograd8', 'lattice', 'direct'] as const) {
    for (const c of cfgs) {
      it(`equals conv2d then selu, forward and backward, every SIMD level (${algo}): ${c.name}`, () => {
        const before = native.simd();
        const algoBefore = mp.setConvAlgorithm(algo);
        try {
          for (const level of levels) {
            native.setSimd(level);
            mp.tidy(() => {
              const { xs, w, b } = leaves(c, 31, 'float32');
              const x = xs.length === 1 ? xs[0]! : xs;
              const grads = () => [...xs.map((t) => t.grad!), w.grad!, ...(b ? [b.grad!] : [])].map((t) => t.toFloat32Array());
              const ref = mp.selu(mp.conv2d(x, w, b, opts(c)));
              const gy = mp.randn([...ref.shape], { generator: new mp.Generator(7) });
              ref.backward(gy);
              const want = grads();
              for (const t of [...xs, w, ...(b ? [b] : [])]) {
                t.grad?.dispose();
                t.grad = null;
              }
              const y = mp.conv2d(x, w, b, fusedOpts(c));
              y.backward(gy);
              const label = `${c.name} ${algo} ${level}`;
              // Random inputs give outputs on both sides of 0 (both branches of SELU).
              const yv = y.toFloat32Array();
              expect(yv.some((v) => v > 0) && yv.some((v) => v < 0), label).toBe(true);
              expect(yv, `${label} y`).toEqual(ref.toFloat32Array());
              grads().forEach((g, i) => expect(g, `${label} grad ${i}`).toEqual(want[i]));
            });
          }
        } finally {
          native.setSimd(before);
          mp.setConvAlgorithm(algoBefore);
        }
      });
    }
  }

  // float64: the direct loops by default, Winograd when forced.
  for (const algo of ['auto', 'winograd', 'winograd2', 'winograd6', 'winograd8'] as const) {
    for (const c of cfgs.filter((c) => c.parts.reduce((a, b) => a + b, 0) < 20)) {
      it(`gradients match finite differences in float64 (${algo}): ${c.name}`, () => {
        const before = mp.setConvAlgorithm(algo);
        try {
          mp.tidy(() => {
            const { xs, w, b } = leaves(c, 41);
            const inputs = [...xs, w, ...(b ? [b] : [])];
            gradcheck((...t) => mp.conv2d(t.slice(0, xs.length), t[xs.length]!, b ? t[xs.length + 1]! : null, fusedOpts(c)), inputs);
          });
        } finally {
          mp.setConvAlgorithm(before);
        }
      });
    }
  }

  it('keeps only the activated output for backward: one tensor fewer than conv2d then selu, and no leak', () => {
    const x = mp.randn([1, 4, 8, 8]).requiresGrad_();
    const w = mp.randn([5, 4, 3, 3], { generator: new mp.Generator(3) }).requiresGrad_();
    const b = mp.randn([5]).requiresGrad_();
    const live = (f: () => mp.Tensor) =>
      mp.tidy(() => {
        const before = mp.memory().tensors;
        f();
        return mp.memory().tensors - before;
      });
    // The tape holds the intermediate of conv2d then selu; the fused op has none.
    expect(live(() => mp.conv2d(x, w, b, { padding: 1, activation: 'selu' }))).toBe(1);
    expect(live(() => mp.selu(mp.conv2d(x, w, b, { padding: 1 })))).toBe(2);
    const step = () =>
      mp.tidy(() => {
        const y = mp.conv2d(x, w, b, { padding: 1, activation: 'selu' });
        mp.sum(mp.mul(y, y)).backward();
      });
    step();
    const before = mp.memory();
    for (let i = 0; i < 10; i++) step();
    expect(mp.memory().tensors).toBe(before.tensors);
    expect(mp.memory().bytes).toBe(before.bytes);
    for (const t of [x, w, b]) t.dispose();
  });

  it('rejects an unknown activation with a RangeError naming the value', () => {
    mp.tidy(() => {
      const x = mp.randn([1, 3, 6, 6]);
      const w = mp.randn([4, 3, 3, 3]);
      const bad = (a: unknown) => () => mp.conv2d(x, w, null, { activation: a as mp.ConvActivation });
      expect(bad('relu')).toThrow(RangeError);
      expect(bad('relu')).toThrow(/conv2d: 'activation' must be 'none' or 'selu', got "relu"/);
      expect(bad(3)).toThrow(/'activation' must be 'none' or 'selu', got 3/);
      expect(() => native.conv2dForward('cpu', [x.handle], w.handle, null, [1, 1], [0, 0], [1, 1], 'gelu' as mp.ConvActivation)).toThrow(RangeError);
      expect(() => native.conv2dForward('cpu', [x.handle], w.handle, null, [1, 1], [0, 0], [1, 1], 'gelu' as mp.ConvActivation)).toThrow(/conv2d: 'activation' must be 'none' or 'selu', got 'gelu'/);
      expect(() => native.conv2dForward('cpu', [x.handle], w.handle, null, [1, 1], [0, 0], [1, 1], 5 as unknown as mp.ConvActivation)).toThrow(TypeError);
    });
  });
});
