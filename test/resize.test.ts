import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { native } from '../bindings/index.js';
import { imresize, imresizePlan, resizeAxis, type ImresizeOptions } from '../lib/ops/resize.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';

interface Case {
  shape: number[];
  options: ImresizeOptions;
  x: number[];
  outShape: number[];
  y: number[];
}
const golden = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'resize.json'), 'utf8')) as { cases: Case[] };

describe('imresize (MATLAB bicubic and friends)', () => {
  for (const c of golden.cases) {
    const label = `${JSON.stringify(c.options)} of [${c.shape.join(', ')}]`;
    it(`${label} matches the numpy reference (float64 and float32)`, () => {
      mp.tidy(() => {
        const x = mp.tensor(c.x, c.shape, { dtype: 'float64' });
        const y = imresize(x, c.options);
        expect(y.shape).toEqual(c.outShape);
        expectClose(y.toFloat64Array(), c.y, 1e-12, label, 1);
        const y32 = imresize(x.astype('float32'), c.options);
        expectClose(y32.toFloat32Array(), c.y, 2e-6, `${label} float32`, 1);
      });
    });
  }

  const gradCases: [string, number[], ImresizeOptions][] = [
    ['upscale ×2 cubic', [1, 2, 4, 5], { scale: 2 }],
    ['downscale ×0.5 antialiased', [1, 1, 8, 6], { scale: 0.5 }],
    ['size, W first, lanczos3', [2, 1, 5, 7], { size: [7, 3], kernel: 'lanczos3' }],
    ['linear without antialiasing', [1, 1, 6, 6], { scale: 0.75, kernel: 'linear', antialias: false }],
  ];
  for (const [name, shape, o] of gradCases) {
    it(`${name}: gradient matches finite differences`, () => {
      mp.tidy(() => gradcheck((x) => imresize(x, o), [randLeaf(shape, 7)]));
    });
  }

  it('the backward is the adjoint: <A x, g> = <x, Aᵀ g> on a larger image', () => {
    mp.tidy(() => {
      for (const o of [{ scale: 4 }, { scale: 0.25 }, { size: [37, 91] as [number, number] }] as ImresizeOptions[]) {
        const x = randLeaf([2, 3, 53, 61], 11);
        const y = imresize(x, o);
        const g = mp.randn([...y.shape], { dtype: 'float64', generator: new mp.Generator(5) });
        y.backward(g);
        const yv = y.toFloat64Array(), gv = g.toFloat64Array(), xv = x.toFloat64Array(), gx = x.grad!.toFloat64Array();
        let lhs = 0, rhs = 0;
        for (let i = 0; i < yv.length; i++) lhs += yv[i]! * gv[i]!;
        for (let i = 0; i < xv.length; i++) rhs += xv[i]! * gx[i]!;
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-9 * Math.abs(lhs) + 1e-9);
      }
    });
  });

  it('keeps constants constant and is the same on any thread count', () => {
    mp.tidy(() => {
      const c = imresize(mp.full([1, 3, 20, 17], 0.3, { dtype: 'float64' }), { scale: 0.3 });
      for (const v of c.toFloat64Array()) expect(v).toBeCloseTo(0.3, 14);
      const x = mp.rand([2, 3, 150, 170], { generator: new mp.Generator(3) });
      const threads = mp.getNumThreads();
      const a = imresize(x, { scale: 3 }).toFloat32Array();
      mp.setNumThreads(1);
      try {
        const b = imresize(x, { scale: 3 }).toFloat32Array();
        expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      } finally {
        mp.setNumThreads(threads);
      }
    });
  });

  it('plans sizes like MATLAB (ceil of input × scale)', () => {
    expect(imresizePlan(123, 120, { scale: 4 })).toEqual({ size: [492, 480], scale: [4, 4] });
    expect(imresizePlan(480, 492, { scale: 0.5 }).size).toEqual([240, 246]);
    expect(imresizePlan(5, 5, { scale: 0.5 }).size).toEqual([3, 3]);
    expect(imresizePlan(10, 20, { size: [5, 30] }).scale).toEqual([0.5, 1.5]);
  });

  it('resizeAxis resizes one axis', () => {
    mp.tidy(() => {
      const x = mp.rand([2, 3, 4], { dtype: 'float64', generator: new mp.Generator(1) });
      const y = resizeAxis(x, 1, 7);
      expect(y.shape).toEqual([2, 7, 4]);
      const z = resizeAxis(x, -1, 2);
      expect(z.shape).toEqual([2, 3, 2]);
    });
  });

  it('rejects bad arguments with typed errors naming them', () => {
    mp.tidy(() => {
      const x = mp.rand([1, 1, 4, 4]);
      expect(() => imresize(x, {})).toThrow(/exactly one of/);
      expect(() => imresize(x, { scale: 2, size: [3, 3] })).toThrow(TypeError);
      expect(() => imresize(x, { scale: -1 })).toThrow(RangeError);
      expect(() => imresize(x, { scale: NaN })).toThrow(RangeError);
      expect(() => imresize(x, { size: [0, 3] })).toThrow(RangeError);
      expect(() => imresize(x, { scale: 2, kernel: 'bogus' as never })).toThrow(/kernel must be one of/);
      expect(() => imresize(mp.rand([4]), { scale: 2 })).toThrow(RangeError);
      expect(() => imresize(x, { scale: 1e-12 })).toThrow(RangeError);
      expect(() => native.resizeForward('cpu', x.handle, 4, 3, 1, 'cubic', true)).toThrow(/resize: 'axis' must be in \[0, 3\], got 4/);
      expect(() => native.resizeForward('cpu', x.handle, 2, 3, 0, 'cubic', true)).toThrow(/'scale' must be positive/);
      expect(() => native.resizeForward('cpu', x.handle, 2, 3, 1, 'bicubic' as never, true)).toThrow(/'kernel' must be/);
      expect(() => native.resizeForward('cuda', x.handle, 2, 3, 1, 'cubic', true)).toThrow(TypeError);
      expect(() => native.resizeBackward('cpu', x.handle, 2, 0, 1, 'cubic', true)).toThrow(RangeError);
    });
  });
});
