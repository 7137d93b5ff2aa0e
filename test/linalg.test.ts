import { describe, expect, it } from 'vitest';
import { native } from '../bindings/index.js';
import * as mp from '../lib/index.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';
import { checkAgainstTorch, loadFixture } from './helpers/fixtures.js';
import { simdLevels } from './helpers/simd-levels.js';

function rms(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s / v.length);
}

const levels = simdLevels();

describe('matmul and linear gradients match finite differences (float64)', () => {
  for (const [m, k, n] of [[1, 1, 1], [3, 5, 4], [7, 2, 9], [13, 17, 1]]) {
    it(`matmul ${m}x${k} . ${k}x${n}`, () => {
      mp.tidy(() => gradcheck((a, b) => mp.matmul(a, b), [randLeaf([m!, k!], 1), randLeaf([k!, n!], 2)]));
    });
  }
  it('linear (5, 6) -> 4 with bias', () => {
    mp.tidy(() => gradcheck((x, w, b) => mp.linear(x, w, b), [randLeaf([5, 6], 1), randLeaf([4, 6], 2), randLeaf([4], 3)]));
  });
  it('linear (2, 3, 7) -> 5 without bias', () => {
    mp.tidy(() => gradcheck((x, w) => mp.linear(x, w), [randLeaf([2, 3, 7], 4), randLeaf([5, 7], 5)]));
  });
  it('linear of a 1-D input', () => {
    mp.tidy(() => gradcheck((x, w, b) => mp.linear(x, w, b), [randLeaf([9], 6), randLeaf([2, 9], 7), randLeaf([2], 8)]));
  });
});

describe('matmul and linear float32 agree with float64 on every SIMD level', () => {
  const shapes: [number, number, number][] = [[1, 52, 4], [8, 52, 4], [67, 129, 45], [260, 52, 300], [3, 500, 2]];
  for (const [m, k, n] of shapes) {
    it(`matmul ${m}x${k} . ${k}x${n} and linear`, () => {
      mp.tidy(() => {
        const a = randLeaf([m, k], 10);
        const b = randLeaf([k, n], 11);
        const w = randLeaf([n, k], 12);
        const bias = randLeaf([n], 13);
        const c = mp.matmul(a, b);
        const y = mp.linear(a, w, bias);
        const gc = mp.randn([m, n], { dtype: 'float64', generator: new mp.Generator(3) });
        mp.add(mp.sum(mp.mul(c, gc)), mp.sum(mp.mul(y, gc))).backward();
        const want = [c, y, a.grad!, b.grad!, w.grad!, bias.grad!].map((t) => t.toFloat64Array());
        const before = native.simd();
        try {
          for (const level of levels) {
            native.setSimd(level);
            mp.tidy(() => {
              const f = (t: mp.Tensor) => t.astype('float32').requiresGrad_();
              const [a32, b32, w32, bias32] = [a, b, w, bias].map(f) as [mp.Tensor, mp.Tensor, mp.Tensor, mp.Tensor];
              const c32 = mp.matmul(a32, b32);
              const y32 = mp.linear(a32, w32, bias32);
              const g32 = gc.astype('float32');
              mp.add(mp.sum(mp.mul(c32, g32)), mp.sum(mp.mul(y32, g32))).backward();
              const got = [c32, y32, a32.grad!, b32.grad!, w32.grad!, bias32.grad!].map((t) => t.toFloat32Array());
              const names = ['c', 'y', 'ga', 'gb', 'gw', 'gbias'];
              got.forEach((g, i) => expectClose(g, want[i]!, 1e-5, `${m}x${k}x${n} ${level} ${names[i]}`, rms(want[i]!)));
            });
          }
        } finally {
          native.setSimd(before);
        }
      });
    });
  }
});

describe('matmul and linear match PyTorch (golden fixtures)', () => {
  for (const c of loadFixture('linalg')) {
    it(c.name, () =>
      checkAgainstTorch(c, (...t) => (c.params.op === 'matmul' ? mp.matmul(t[0]!, t[1]!) : mp.linear(t[0]!, t[1]!, t[2] ?? null))),
    );
  }
});

describe('matmul and linear reject bad input with typed errors naming the argument', () => {
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    ['matmul of a 3-D tensor', () => mp.matmul(mp.randn([2, 3, 4]), mp.randn([4, 2])), RangeError, /matmul: 'a' must be 2-D/],
    ['matmul of a 1-D tensor', () => mp.matmul(mp.randn([2, 3]), mp.randn([3])), RangeError, /matmul: 'b' must be 2-D/],
    ['matmul inner sizes', () => mp.matmul(mp.randn([2, 3]), mp.randn([4, 2])), RangeError, /inner sizes 3 and 4 differ/],
    ['matmul mixed dtypes', () => mp.matmul(mp.randn([2, 3]), mp.randn([3, 2], { dtype: 'float64' })), TypeError, /'b' is float64/],
    ['linear features', () => mp.linear(mp.randn([2, 5]), mp.randn([3, 4])), RangeError, /'x' \[2, 5\] has 5 features in its last dimension but 'weight' \[3, 4\] expects 4/],
    ['linear weight rank', () => mp.linear(mp.randn([2, 4]), mp.randn([4])), RangeError, /'weight' must be 2-D/],
    ['linear bias shape', () => mp.linear(mp.randn([2, 4]), mp.randn([3, 4]), mp.randn([4])), RangeError, /'bias' must have shape \[3\]/],
    ['linear mixed dtypes', () => mp.linear(mp.randn([2, 4]), mp.randn([3, 4]), mp.randn([3], { dtype: 'float64' })), TypeError, /'bias' is float64/],
    ['matmul of a non-tensor', () => mp.matmul([1, 2] as unknown as mp.Tensor, mp.randn([2, 2])), TypeError, /'a' must be a Tensor/],
  ];
  for (const [name, fn, type, msg] of cases) {
    it(name, () => {
      mp.tidy(() => {
        expect(fn).toThrow(type);
        expect(fn).toThrow(msg);
      });
    });
  }
  it('disposed operands', () => {
    mp.tidy(() => {
      const a = mp.randn([2, 2]);
      a.dispose();
      expect(() => mp.matmul(a, mp.randn([2, 2]))).toThrow(/matmul: 'a' was disposed/);
      expect(() => mp.linear(a, mp.randn([2, 2]))).toThrow(/linear: 'x' was disposed/);
    });
  });
  it('native: bad gc shape and wrong device', () => {
    mp.tidy(() => {
      const a = mp.randn([2, 3]);
      const b = mp.randn([3, 4]);
      expect(() => native.matmulBackward('cpu', a.handle, b.handle, mp.randn([2, 3]).handle, true, true)).toThrow(/'gc' has shape \[2, 3\] but the product's shape is \[2, 4\]/);
      expect(() => native.matmulForward('cuda', a.handle, b.handle)).toThrow(TypeError);
      expect(() => native.linearBackward('cpu', a.handle, mp.randn([5, 3]).handle, mp.randn([2, 4]).handle, true, true, true)).toThrow(/'gy' has shape \[2, 4\] but the output's shape is \[2, 5\]/);
    });
  });
});
