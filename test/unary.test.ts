import { describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';

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
