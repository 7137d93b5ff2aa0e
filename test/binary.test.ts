import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../bindings/index.js';
import * as mp from '../lib/index.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';
import { checkAgainstTorch, loadFixture, type FixtureCase } from './helpers/fixtures.js';
import { simdLevels } from './helpers/simd-levels.js';

type Op = 'add' | 'sub' | 'mul' | 'div';
const OPS: Record<Op, (a: mp.Tensor | number, b: mp.Tensor | number) => mp.Tensor> = { add: mp.add, sub: mp.sub, mul: mp.mul, div: mp.div };

// Every broadcasting pattern: same shape, MPF-Net's SE scaling and bias-like adds, batch
// broadcast, broadcasting on the left, both sides broadcast, rank extension, interleaved 1s,
// a one-element operand, and odd sizes throughout.
const PATTERNS: [number[], number[]][] = [
  [[2, 3, 5, 7], [2, 3, 5, 7]],
  [[2, 3, 5, 7], [2, 3, 1, 1]],
  [[2, 3, 5, 7], [1, 3, 1, 1]],
  [[2, 3, 5, 7], [1, 3, 5, 7]],
  [[1, 3, 1, 1], [2, 3, 5, 7]],
  [[3, 1, 5], [4, 1]],
  [[7], [2, 3, 7]],
  [[2, 1, 3, 1, 2], [1, 4, 1, 5, 1]],
  [[2, 3, 5], [1]],
  [[1], [3, 2]],
  [[5, 1], [1, 1]],
  [[2, 1, 2, 1, 2, 1, 2, 1], [1, 2, 1, 2, 1, 2, 1, 3]], // rank 8, the maximum
];

// Divisors away from 0 for finite differences.
const leafFor = (op: Op, side: 0 | 1, shape: number[], seed: number) =>
  op === 'div' && side === 1 ? randLeaf(shape, seed, { shift: 3 }) : randLeaf(shape, seed);

const LEVELS = simdLevels();

describe('binary ops', () => {
  const simd0 = native.simd();
  afterEach(() => {
    native.setSimd(simd0);
  });

  for (const op of Object.keys(OPS) as Op[]) {
    for (const [sa, sb] of PATTERNS) {
      it(`${op} [${sa}] with [${sb}]: gradients match finite differences (float64)`, () => {
        mp.tidy(() => gradcheck(OPS[op], [leafFor(op, 0, sa, 1), leafFor(op, 1, sb, 2)]));
      });
    }
    it(`${op}: scalar operands on either side`, () => {
      mp.tidy(() => {
        gradcheck((x) => OPS[op](x, 2.5), [randLeaf([3, 4], 3)]);
        gradcheck((x) => OPS[op](-1.25, x), [leafFor(op, 1, [3, 4], 4)]);
      });
    });
    it(`${op}: float32 agrees with float64 at every SIMD level`, () => {
      for (const level of LEVELS) {
        native.setSimd(level);
        mp.tidy(() => {
          for (const [sa, sb] of [...PATTERNS, [[8, 52, 13, 11], [8, 52, 1, 1]], [[8, 52, 13, 11], [1, 52, 13, 11]]] as [number[], number[]][]) {
            // The float64 run sees exactly the float32 inputs, so only the op's own rounding counts.
            const a32 = leafFor(op, 0, sa, 5).astype('float32').requiresGrad_();
            const b32 = leafFor(op, 1, sb, 6).astype('float32').requiresGrad_();
            const a64 = a32.astype('float64').requiresGrad_();
            const b64 = b32.astype('float64').requiresGrad_();
            const y64 = OPS[op](a64, b64);
            const y32 = OPS[op](a32, b32);
            expectClose(y32.toFloat32Array(), y64.toFloat64Array(), 1e-6, `${op} ${level} [${sa}] [${sb}]`, 0.1);
            // Gradients of broadcast operands are float32 sums of many terms: compared with floor 1.
            mp.sum(y64).backward();
            mp.sum(y32).backward();
            expectClose(a32.grad!.toFloat32Array(), a64.grad!.toFloat64Array(), 1e-5, `${op} ${level} ga`, 1);
            expectClose(b32.grad!.toFloat32Array(), b64.grad!.toFloat64Array(), 1e-5, `${op} ${level} gb`, 1);
          }
        });
      }
    });
  }

  it('one tensor on both sides (x op x) sums both gradients', () => {
    mp.tidy(() => {
      for (const op of ['add', 'sub', 'mul'] as Op[]) gradcheck((x) => OPS[op](x, x), [randLeaf([3, 5], 8)]);
      gradcheck((x) => mp.div(x, x), [randLeaf([3, 5], 9, { shift: 3 })]);
    });
  });

  it('matches PyTorch (test/fixtures/binary.json)', () => {
    for (const c of loadFixture<FixtureCase<{ op: string; scalar?: number; side?: 'left' | 'right' }>>('binary')) {
      const f = OPS[c.params.op as Op];
      const scalar = c.params.scalar;
      if (scalar === undefined) checkAgainstTorch(c, (a, b) => f(a, b));
      else if (c.params.side === 'right') checkAgainstTorch(c, (a) => f(a, scalar));
      else checkAgainstTorch(c, (a) => f(scalar, a));
    }
  });

  it('writes every output element on big broadcast shapes (poisoned buffers)', () => {
    mp.tidy(() => {
      const x = mp.randn([8, 52, 48, 48]);
      const s = mp.randn([8, 52, 1, 1]);
      const y = mp.mul(x, s).toFloat32Array();
      const xv = x.toFloat32Array();
      const sv = s.toFloat32Array();
      for (let i = 0; i < y.length; i += 997) expect(y[i]).toBeCloseTo(xv[i]! * sv[Math.floor(i / 2304)]!, 5);
      expect(y.every((v) => Number.isFinite(v))).toBe(true);
    });
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    mp.tidy(() => {
      const a = mp.randn([2, 3]);
      expect(() => mp.add(a, mp.randn([4, 3, 2]))).toThrow(RangeError);
      expect(() => mp.add(a, mp.randn([4, 3, 2]))).toThrow(/add: 'a' \[2, 3\] and 'b' \[4, 3, 2\] do not broadcast/);
      expect(() => mp.mul(a, mp.randn([2, 3], { dtype: 'float64' }))).toThrow(TypeError);
      expect(() => mp.mul(a, mp.randn([2, 3], { dtype: 'float64' }))).toThrow(/mul: 'b' is float64/);
      expect(() => mp.div(2, 3)).toThrow(TypeError);
      expect(() => mp.sub(a, Number.NaN)).toThrow(/sub: 'b' must be finite/);
      expect(() => mp.add(a, 'x' as never)).toThrow(/add: 'b' must be a Tensor/);
      const d = mp.randn([2, 3]);
      d.dispose();
      expect(() => mp.add(a, d)).toThrow(/add: 'b' was disposed/);
      expect(() => native.binaryForward('cpu', 'pow' as never, a.handle, a.handle)).toThrow(TypeError);
      expect(() => native.binaryBackward('cpu', 'add', a.handle, a.handle, mp.randn([3, 2]).handle, true, true)).toThrow(/'gy' has shape/);
      expect(() => native.binaryForward('cuda', 'add', a.handle, a.handle)).toThrow(TypeError);
    });
  });

  it('addInPlace: y += x equals add(y, x) exactly, in every dtype and SIMD level, with clear errors', () => {
    mp.tidy(() => {
      const before = native.simd();
      try {
        for (const dtype of ['float32', 'float64'] as const)
          for (const level of LEVELS) {
            native.setSimd(level);
            const x = mp.randn([3, 5, 7, 9], { dtype, generator: new mp.Generator(1) });
            const y = mp.randn([3, 5, 7, 9], { dtype, generator: new mp.Generator(2) });
            const want = mp.add(y, x).toFloat64Array();
            const tensorsBefore = mp.memory().tensors;
            mp.addInPlace(y, x);
            expect(mp.memory().tensors).toBe(tensorsBefore);
            expect(Array.from(y.toFloat64Array())).toEqual(Array.from(want));
          }
      } finally {
        native.setSimd(before);
      }
      const a = mp.randn([2, 3]);
      expect(() => mp.addInPlace(a, mp.randn([3, 2]))).toThrow(RangeError);
      expect(() => mp.addInPlace(a, mp.randn([2, 3], { dtype: 'float64' }))).toThrow(TypeError);
      const leaf = mp.randn([2, 3]);
      leaf.requiresGrad = true;
      expect(() => mp.addInPlace(leaf, a)).toThrow(/addInPlace: writes in place and has no gradient/);
      mp.noGrad(() => mp.addInPlace(leaf, a)); // the tape off: allowed
      const gone = mp.randn([2, 3]);
      gone.dispose();
      expect(() => mp.addInPlace(a, gone)).toThrow(/addInPlace: 'x' was disposed/);
    });
  });

  it('scaleAddInPlace: y = y · s + x per plane equals add(mul(y, s), x), in both dtypes, with clear errors', () => {
    mp.tidy(() => {
      for (const dtype of ['float32', 'float64'] as const) {
        const y = mp.randn([2, 5, 7, 9], { dtype, generator: new mp.Generator(3) });
        const x = mp.randn([2, 5, 7, 9], { dtype, generator: new mp.Generator(4) });
        const s = mp.rand([2, 5], { dtype, generator: new mp.Generator(5) });
        const want = mp.add(mp.mul(y, mp.reshape(s, [2, 5, 1, 1])), x).toFloat64Array();
        const tensorsBefore = mp.memory().tensors;
        mp.scaleAddInPlace(y, s, x);
        expect(mp.memory().tensors).toBe(tensorsBefore);
        // The kernel may fuse the multiply-add (one rounding where the composite has two).
        expectClose(y.toFloat64Array(), want, dtype === 'float32' ? 1e-6 : 1e-14, `scaleAddInPlace ${dtype}`);
      }
      const y = mp.randn([1, 3, 4, 4]);
      const s = mp.rand([1, 3]);
      expect(() => mp.scaleAddInPlace(y, mp.rand([3]), y)).toThrow(/scaleAddInPlace: 's' must have shape \[1, 3\], got \[3\]/);
      expect(() => mp.scaleAddInPlace(y, s, mp.randn([1, 3, 4, 5]))).toThrow(RangeError);
      expect(() => mp.scaleAddInPlace(mp.randn([3, 4]), s, mp.randn([3, 4]))).toThrow(/scaleAddInPlace: 'y' must be 4-D/);
      expect(() => mp.scaleAddInPlace(y, s.astype('float64'), y)).toThrow(TypeError);
      expect(() => mp.scaleAddInPlace(y, 's' as never, y)).toThrow(/scaleAddInPlace: 's' must be a Tensor/);
      const leaf = mp.randn([1, 3, 4, 4]);
      leaf.requiresGrad = true;
      expect(() => mp.scaleAddInPlace(leaf, s, y)).toThrow(/scaleAddInPlace: writes in place and has no gradient/);
      mp.noGrad(() => mp.scaleAddInPlace(leaf, s, y)); // the tape off: allowed
      const gone = mp.rand([1, 3]);
      gone.dispose();
      expect(() => mp.scaleAddInPlace(y, gone, y)).toThrow(/scaleAddInPlace: 's' was disposed/);
    });
  });
});
