// upsampleTail: conv3x3 -> pixel shuffle -> conv3x3 as one composed 5x5 convolution (native/cpu/upsample_tail.h).
// Checked against PyTorch's chain (test/fixtures/upsample_tail.json) and against our own chain on
// random inputs, float64 and float32 at every SIMD level, every output element including the
// corrected border; then its errors, its memory, and MPF-Net's inference path that uses it.
import { describe, expect, it, vi } from 'vitest';
import { native } from '../bindings/index.js';
import * as mp from '../lib/index.js';
import { Upsampler } from '../lib/models/mpfnet/upsampler.js';
import { fromStored, loadFixture, type FixtureCase } from './helpers/fixtures.js';
import { expectClose } from './helpers/gradcheck.js';
import { simdLevels } from './helpers/simd-levels.js';

type Params = { r: number; bias: boolean };

/** [n, c, h, w, mid, r, out, bias]: widths past 66 reach the AVX-512 kernel's interior blocks. */
const SHAPES: [number, number, number, number, number, number, number, boolean][] = [
  [1, 4, 5, 7, 3, 2, 3, true],
  [2, 3, 3, 70, 2, 2, 3, true],
  [1, 2, 40, 36, 13, 2, 3, true], // 12 outputs: exactly one group
  [1, 3, 4, 75, 2, 3, 3, false], // 27 outputs: three groups, the last padded
  [3, 3, 1, 1, 2, 2, 3, true],
  [1, 2, 2, 3, 1, 4, 1, true],
];

function chain(x: mp.Tensor, wz: mp.Tensor, bz: mp.Tensor | null, r: number, wt: mp.Tensor, bt: mp.Tensor | null): mp.Tensor {
  return mp.conv2d(mp.pixelShuffle(mp.conv2d(x, wz, bz, { padding: 1 }), r), wt, bt, { padding: 1 });
}

// float32 sums products in another order than the chain (and PyTorch), so an output near zero after
// cancellation differs by the rounding of its terms: errors are relative to the output's largest
// value's hundredth at least (in practice ~1e-6 of the largest value).
const tolerance = (dtype: mp.DType) => (dtype === 'float64' ? 1e-11 : 1e-4);
const floor = (y: ArrayLike<number>) => Math.max(1e-3, 0.01 * Math.max(...Array.from(y, Math.abs)));

describe('upsampleTail', () => {
  it('matches PyTorch (test/fixtures/upsample_tail.json), float64 and float32 at every SIMD level', () => {
    const before = native.simd();
    try {
      for (const c of loadFixture<FixtureCase<Params>>('upsample_tail'))
        for (const dtype of ['float64', 'float32'] as const)
          for (const level of dtype === 'float64' ? [before] : simdLevels()) {
            native.setSimd(level);
            mp.tidy(() => {
              const t = c.inputs.map((s) => fromStored(s, dtype));
              const [x, wz, bz, wt, bt]: (mp.Tensor | null)[] = c.params.bias ? t : [t[0]!, t[1]!, null, t[2]!, null];
              const y = mp.upsampleTail(x!, wz!, bz ?? null, c.params.r, wt!, bt ?? null);
              expect([...y.shape]).toEqual(c.outputs[0]!.shape);
              expectClose(y.toFloat64Array(), c.outputs[0]!.data, tolerance(dtype), `${c.name} ${dtype} ${level}`, floor(c.outputs[0]!.data));
            });
          }
    } finally {
      native.setSimd(before);
    }
  });

  for (const [n, c, h, w, mid, r, out, bias] of SHAPES) {
    it(`equals the chain, every element: x (${n}, ${c}, ${h}, ${w}), ${mid * r * r} -> shuffle ${r} -> ${out}${bias ? '' : ', no biases'}`, () => {
      const before = native.simd();
      try {
        for (const dtype of ['float64', 'float32'] as const)
          for (const level of dtype === 'float64' ? [before] : simdLevels()) {
            native.setSimd(level);
            mp.tidy(() => {
              const g = new mp.Generator(n * 1000 + h * 10 + w);
              const x = mp.randn([n, c, h, w], { dtype, generator: g });
              const wz = mp.mulScalar(mp.randn([mid * r * r, c, 3, 3], { dtype, generator: g }), 0.3);
              const wt = mp.mulScalar(mp.randn([out, mid, 3, 3], { dtype, generator: g }), 0.3);
              const bz = bias ? mp.randn([mid * r * r], { dtype, generator: g }) : null;
              const bt = bias ? mp.randn([out], { dtype, generator: g }) : null;
              const want = chain(x, wz, bz, r, wt, bt).toFloat64Array();
              const got = mp.upsampleTail(x, wz, bz, r, wt, bt).toFloat64Array();
              expectClose(got, want, tolerance(dtype), `${dtype} ${level}`, floor(want));
            });
          }
      } finally {
        native.setSimd(before);
      }
    });
  }

  it('rejects bad arguments with errors that name them, and frees what it made', () => {
    mp.tidy(() => {
      const x = mp.randn([1, 4, 5, 6]);
      const wz = mp.randn([12, 4, 3, 3]);
      const wt = mp.randn([3, 3, 3, 3]);
      const live = mp.memory().tensors;
      expect(() => mp.upsampleTail(x, wz, null, 2, mp.randn([3, 2, 3, 3]), null)).toThrow(/upsampleTail: 'tailWeight' has shape \[3, 2, 3, 3\].*\(O, 3, 3, 3\)/);
      expect(() => mp.upsampleTail(x, mp.randn([10, 4, 3, 3]), null, 2, wt, null)).toThrow(RangeError);
      expect(() => mp.upsampleTail(x, mp.randn([12, 5, 3, 3]), null, 2, wt, null)).toThrow(/'stageWeight'/);
      expect(() => mp.upsampleTail(x, wz, mp.randn([11]), 2, wt, null)).toThrow(/'stageBias' must have shape \[12\]/);
      expect(() => mp.upsampleTail(x, wz, null, 2, wt, mp.randn([2]))).toThrow(/'tailBias' must have shape \[3\]/);
      expect(() => mp.upsampleTail(x, wz, null, 1, wt, null)).toThrow(/'r'/);
      expect(() => mp.upsampleTail(x, mp.randn([12, 4, 3, 3], { dtype: 'float64' }), null, 2, wt, null)).toThrow(TypeError);
      expect(() => mp.upsampleTail(mp.randn([4, 5, 6]), wz, null, 2, wt, null)).toThrow(/'x'/);
      expect(() => mp.upsampleTail(x, wz, null, 2, 'w' as unknown as mp.Tensor, null)).toThrow(/'tailWeight' must be a Tensor/);
      const leaf = mp.randn([3, 3, 3, 3]);
      leaf.requiresGrad = true;
      expect(() => mp.upsampleTail(x, wz, null, 2, leaf, null)).toThrow(/no gradient/);
      // Only the tensors made above as arguments remain (8 of them, the leaf included).
      expect(mp.memory().tensors).toBe(live + 8);
    });
  });

  it('Upsampler.forwardWithTail runs a tail that is not a 3x3 convolution with padding 1 as the chain', () => {
    mp.tidy(() => {
      const up = new Upsampler(4, 2, { dtype: 'float64', generator: new mp.Generator(1) });
      const x = mp.rand([1, 4, 5, 6], { dtype: 'float64', generator: new mp.Generator(3) });
      for (const tail of [new mp.Conv2d(4, 3, 1, { dtype: 'float64', generator: new mp.Generator(2) }), new mp.Conv2d(4, 3, 3, { dtype: 'float64', generator: new mp.Generator(2), padding: 2 })]) {
        const composed = vi.spyOn(native, 'upsampleTail');
        try {
          const got = mp.noGrad(() => up.forwardWithTail(x, tail));
          expect(composed).not.toHaveBeenCalled();
          const want = mp.noGrad(() => tail.forward(up.forward(x)));
          expect([...got.shape]).toEqual([...want.shape]);
          expectClose(got.toFloat64Array(), want.toFloat64Array(), 1e-14, `tail ${tail.kernelSize[0]}x${tail.kernelSize[1]}`);
        } finally {
          composed.mockRestore();
        }
      }
    });
  });

  it("MPF-Net's inference (tape off, CPU) takes it and matches the recorded forward, x2, x3, x4", () => {
    for (const scale of [2, 3, 4] as const) {
      mp.tidy(() => {
        const model = new mp.MPFNet({ scale, channels: 8, nCpb: 1, mpfe: [[1, 1], [3, 2]], seReduction: 4 }, { dtype: 'float64', generator: new mp.Generator(scale) });
        const x = mp.rand([1, 3, 9, 11], { dtype: 'float64', generator: new mp.Generator(9) });
        const recorded = model.forward(x).toFloat64Array();
        const composed = vi.spyOn(native, 'upsampleTail');
        try {
          const inferred = mp.noGrad(() => model.forward(x)).toFloat64Array();
          expect(composed).toHaveBeenCalledTimes(1);
          expectClose(inferred, recorded, 1e-10, `x${scale}`);
        } finally {
          composed.mockRestore();
        }
      });
    }
  });
});
