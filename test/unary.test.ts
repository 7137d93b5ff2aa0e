import { describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';
import { loadFixture, type FixtureCase } from './helpers/fixtures.js';
import { simdLevels } from './helpers/simd-levels.js';

const ops: [string, (x: mp.Tensor) => mp.Tensor, { shift?: number }?][] = [
  ['relu', mp.relu],
  ['leakyRelu', (x) => mp.leakyRelu(x, 0.1)],
  ['selu', mp.selu],
  ['sigmoid', mp.sigmoid],
  ['tanh', mp.tanh],
  ['exp', mp.exp],
  ['log', mp.log, { shift: 4 }],
  ['sqrt', mp.sqrt, { shift: 4 }],
  ['abs', mp.abs],
  ['square', mp.square],
  ['clamp', (x) => mp.clamp(x, -0.5, 0.7)],
  ['affine', (x) => mp.affine(x, -1.5, 0.25)],
];

describe('unary ops', () => {
  for (const [name, f, o] of ops) {
    it(`${name}: gradient matches finite differences (float64)`, () => {
      mp.tidy(() => gradcheck(f, [randLeaf([2, 3, 5, 7], 1, o)]));
    });
    it(`${name}: float32 agrees with float64`, () => {
      mp.tidy(() => {
        const x64 = randLeaf([3, 4, 9, 11], 2, o);
        const x32 = x64.astype('float32');
        expectClose(f(x32).toFloat32Array(), f(x64).toFloat64Array(), 1e-6, name, 0.1);
      });
    });
  }

  it('rejects disposed inputs and wrong devices with typed errors', () => {
    const x = mp.randn([2, 2]);
    x.dispose();
    expect(() => mp.relu(x)).toThrow(TypeError);
    expect(() => mp.relu(x)).toThrow(/'x' was disposed/);
    expect(() => mp.clamp(mp.ones([1]), 2, 1)).toThrow(RangeError);
  });
});

describe('unary ops: vector kernels (selu, sigmoid, tanh, exp in float32)', () => {
  const levels = simdLevels();
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  // |a - b| in float32 ulps at b (b: the float64 reference).
  const ulps = (a: number, b: number): number => {
    f32[0] = b;
    const bb = f32[0];
    if (Number.isNaN(a) || Number.isNaN(bb)) return Number.isNaN(a) && Number.isNaN(bb) ? 0 : Infinity;
    if (a === bb) return 0;
    f32[0] = Math.abs(bb);
    u32[0]! += 1;
    const ulp = f32[0] - Math.abs(bb) || 1.401298464324817e-45;
    return Math.abs(a - b) / ulp;
  };

  it('match PyTorch in float32 within 3 ulp at every SIMD level, over the whole range (test/fixtures/unary.json)', async () => {
    const { native } = await import('../bindings/index.js');
    const simd0 = native.simd();
    try {
      for (const level of levels) {
        native.setSimd(level);
        for (const c of loadFixture<FixtureCase<{ op: string }>>('unary')) {
          mp.tidy(() => {
            const f = { selu: mp.selu, sigmoid: mp.sigmoid, tanh: mp.tanh, exp: mp.exp }[c.params.op as 'selu'];
            const x = mp.tensor(c.inputs[0]!.data, c.inputs[0]!.shape, { dtype: 'float32' });
            const y = f(x).toFloat32Array();
            const want = c.outputs[0]!.data;
            let worst = 0;
            let at = 0;
            for (let i = 0; i < want.length; i++) {
              const u = ulps(y[i]!, want[i]!);
              if (u > worst) [worst, at] = [u, i];
            }
            expect(worst, `${c.params.op} at ${level}: ${worst} ulp at x = ${c.inputs[0]!.data[at]}`).toBeLessThanOrEqual(3);
            // float64 keeps the scalar reference formulas: 1e-12 relative.
            expectClose(f(x.astype('float64')).toFloat64Array(), want, 1e-12, `${c.params.op} float64`, 1e-300);
          });
        }
      }
    } finally {
      native.setSimd(simd0);
    }
  });

  it('propagate NaN and handle odd lengths (vector tails) at every SIMD level', async () => {
    const { native } = await import('../bindings/index.js');
    const simd0 = native.simd();
    try {
      for (const level of levels) {
        native.setSimd(level);
        for (const n of [1, 7, 15, 17, 33]) {
          mp.tidy(() => {
            const data = Array.from({ length: n }, (_, i) => (i === n - 1 ? Number.NaN : i - n / 2));
            const x = mp.tensor(data, [n]);
            for (const f of [mp.selu, mp.sigmoid, mp.tanh, mp.exp]) {
              const y = f(x).toFloat32Array();
              const ref = f(x.astype('float64')).toFloat64Array();
              expect(Number.isNaN(y[n - 1]!)).toBe(true);
              expectClose(y.subarray(0, n - 1), ref.subarray(0, n - 1), 1e-6, `${level} n=${n}`, 1e-30);
            }
          });
        }
      }
    } finally {
      native.setSimd(simd0);
    }
  });
});
