// Bad input across the whole API: every mistake a caller can make ends in a TypeError (wrong kind of
// value) or a RangeError (right kind, wrong value) whose message names the op and the argument, and
// never in an abort, an OOM or a silently wrong tensor. An op this file names that the API does not
// export fails its tests (see `op`): a rename must not turn them into skips.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { native } from '../bindings/index.js';
import * as mp from '../lib/index.js';
import type { Tensor } from '../lib/index.js';

type AnyFn = (...args: unknown[]) => unknown;
const api = mp as unknown as Record<string, unknown>;
/**
 * The exported function `name`. A missing export throws a plain Error, which no expectation of a
 * TypeError or RangeError accepts, so its tests fail instead of passing on "x is not a function".
 */
const op = (name: string): AnyFn => {
  const f = api[name];
  if (typeof f !== 'function') throw new Error(`mpfnet exports no function '${name}'`);
  return f as AnyFn;
};

type ErrorClass = typeof TypeError | typeof RangeError;

/**
 * fn must throw `kind` (or, when kind is omitted, a TypeError or RangeError) whose message contains
 * every one of `names` (the op and the argument).
 */
function expectError(fn: () => unknown, kind: ErrorClass | undefined, ...names: (string | RegExp)[]): Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a throw naming ${names.join(', ')}`).toBeInstanceOf(Error);
  const err = caught as Error;
  if (kind) expect(err, err.message).toBeInstanceOf(kind);
  else expect(err instanceof TypeError || err instanceof RangeError, `${err.constructor.name}: ${err.message}`).toBe(true);
  for (const n of names) {
    if (typeof n === 'string') expect(err.message.toLowerCase()).toContain(n.toLowerCase());
    else expect(err.message).toMatch(n);
  }
  return err;
}

const g = () => new mp.Generator(7);
const live = () => mp.memory().tensors;

describe('disposed tensors', () => {
  // For each op that exists: the shape of the input that gets disposed, and a call that would be
  // valid if it were alive (so the disposal is the only thing wrong).
  const cases: [string, number[], (d: Tensor) => unknown][] = [
    ...['relu', 'selu', 'sigmoid', 'tanh', 'exp', 'log', 'sqrt', 'abs', 'square', 'neg'].map(
      (n) => [n, [2, 3], (d: Tensor) => op(n)(d)] as [string, number[], (d: Tensor) => unknown],
    ),
    ['leakyRelu', [2, 3], (d) => mp.leakyRelu(d, 0.2)],
    ['clamp', [2, 3], (d) => mp.clamp(d, -1, 1)],
    ['affine', [2, 3], (d) => mp.affine(d, 2, 1)],
    ['add', [2, 3], (d) => op('add')(mp.ones([2, 3]), d)],
    ['sub', [2, 3], (d) => op('sub')(d, mp.ones([2, 3]))],
    ['mul', [2, 3], (d) => op('mul')(mp.ones([2, 3]), d)],
    ['div', [2, 3], (d) => op('div')(d, 2)],
    ['matmul', [2, 3], (d) => op('matmul')(d, mp.ones([3, 2]))],
    ['linear', [2, 3], (d) => op('linear')(d, mp.ones([4, 3]))],
    ['conv2d', [3, 2, 3, 3], (d) => op('conv2d')(mp.ones([1, 2, 5, 5]), d)],
    ['conv2d', [1, 1, 5, 5], (d) => op('conv2d')([mp.ones([1, 1, 5, 5]), d], mp.ones([3, 2, 3, 3]))],
    ['cat', [2, 3], (d) => op('cat')([mp.ones([2, 3]), d], 0)],
    ['split', [2, 3], (d) => op('split')(d, 1, 0)],
    ['reshape', [2, 3], (d) => op('reshape')(d, [3, 2])],
    ['flatten', [2, 3], (d) => op('flatten')(d, 0)],
    ['sum', [2, 3], (d) => op('sum')(d)],
    ['mean', [2, 3], (d) => op('mean')(d)],
    ['logSumExp', [2, 3], (d) => op('logSumExp')(d, 1)],
    ['pixelShuffle', [1, 4, 2, 2], (d) => op('pixelShuffle')(d, 2)],
    ['avgPool2d', [1, 1, 4, 4], (d) => op('avgPool2d')(d, 2)],
    ['l1Loss', [2, 3], (d) => op('l1Loss')(d, mp.ones([2, 3]))],
  ];

  for (const [name, shape, call] of cases) {
    it(`${name} rejects a disposed input [${shape.join(', ')}] with a TypeError`, () => {
      mp.tidy(() => {
        const d = mp.rand(shape, { generator: g() });
        d.dispose();
        expectError(() => call(d), TypeError, /'[\w[\]]+' was disposed/);
      });
    });
  }

  it('tensor methods reject a disposed tensor', () => {
    const d = mp.rand([2, 3], { generator: g() });
    d.dispose();
    expect(d.isDisposed).toBe(true);
    expectError(() => d.toFloat32Array(), TypeError, 'disposed');
    expectError(() => d.toArray(), TypeError, 'disposed');
    expectError(() => d.astype('float64'), TypeError, 'disposed');
    expectError(() => d.detach(), TypeError, 'disposed');
    expectError(() => d.backward(), TypeError, 'backward', 'disposed');
    expect(() => d.dispose()).not.toThrow(); // twice is fine
  });

  it('backward through an input disposed after the forward pass names it', () => {
    const before = live();
    const x = mp.rand([2, 3], { generator: g(), low: 1, high: 2 });
    x.requiresGrad = true;
    const y = mp.log(x);
    x.dispose();
    expectError(() => y.backward(mp.onesLike(y)), TypeError, "'x' was disposed");
    y.dispose();
    mp.tidy(() => undefined);
    expect(live()).toBeLessThanOrEqual(before + 1); // the seed gradient may be left to its owner
  });

  it('a handle number that was never issued is not mistaken for a tensor', () => {
    expectError(() => native.read(4_000_000_000), TypeError, 'read', 'not a tensor handle');
    expectError(() => native.read(-1), TypeError, 'read', 'not a tensor handle');
    expectError(() => native.read(1.5), TypeError, 'read');
    expectError(() => native.read('1' as unknown as number), TypeError, 'read');
  });
});

describe('tensor() data', () => {
  const bad: [string, unknown, unknown?][] = [
    ['strings', ['a', 'b']],
    ['undefined holes', [1, undefined, 3]],
    ['objects', [1, {}, 3]],
    ['booleans', [true, false]],
    ['nested strings', [['1', '2'], ['3', '4']]],
    ['a string', 'abc'],
    ['a number', 42],
    ['null', null],
    ['BigInt64Array', new BigInt64Array(2)],
  ];
  for (const [what, data, shape] of bad) {
    it(`rejects ${what} with a TypeError naming 'data'`, () => {
      expectError(() => mp.tensor(data as number[], shape as number[] | undefined), TypeError, 'tensor', 'data');
    });
  }

  it('rejects a data length that does not match the shape', () => {
    expectError(() => mp.tensor([1, 2, 3], [2, 2]), RangeError, 'tensor', 'data', '3', '4');
    expectError(() => mp.tensor(new Float32Array(5), [2, 3]), RangeError, 'tensor', 'data');
  });

  it('rejects unknown dtypes and devices', () => {
    expectError(() => mp.tensor([1], [1], { dtype: 'int32' as 'float32' }), TypeError, 'tensor', 'dtype', 'int32');
    expectError(() => mp.tensor([1], [1], { device: 'gpu' as 'cpu' }), TypeError, 'device', 'gpu');
    expectError(() => mp.zeros([1], { dtype: 'float16' as 'float32' }), TypeError, 'dtype');
  });

  it('accepts every numeric typed array and converts it', () => {
    expect(mp.tidy(() => mp.tensor(new Int32Array([1, -2]), [2]).toArray())).toEqual([1, -2]);
    expect(mp.tidy(() => mp.tensor(new Uint8Array([3, 4]), [2], { dtype: 'float64' }).toArray())).toEqual([3, 4]);
    expect(mp.tidy(() => mp.tensor({ length: 2, 0: 5, 1: 6 }).toArray())).toEqual([5, 6]);
    expect(mp.tidy(() => mp.tensor([[1, 2], [3, 4]], [4]).shape)).toEqual([4]);
  });
});

describe('ragged arrays', () => {
  const ragged: [string, unknown][] = [
    ['rows of different length', [[1, 2], [3]]],
    ['a number among rows', [[1, 2], 3]],
    ['a row among numbers', [1, [2, 3]]],
    ['uneven depth with a matching count', [[1, 2], [3, [4]]]],
    ['deeper rows of different length', [[[1, 2], [3, 4]], [[5, 6], [7]]]],
  ];
  for (const [what, data] of ragged) {
    it(`rejects ${what} with a RangeError`, () => {
      expectError(() => mp.tensor(data as number[][]), RangeError, 'tensor', 'ragged');
    });
  }
  it('rejects empty arrays: tensors are never empty', () => {
    expectError(() => mp.tensor([]), RangeError, 'tensor');
    expectError(() => mp.tensor([[]] as number[][]), RangeError, 'tensor');
  });
});

describe('empty', () => {
  it('gives the shape, dtype and device asked (its values unset); data and uninitialized exclude each other', () => {
    const t = mp.empty([2, 3, 4], { dtype: 'float64' });
    expect([t.shape, t.dtype, t.device]).toEqual([[2, 3, 4], 'float64', 'cpu']);
    t.dispose();
    expectError(() => native.create('cpu', 'float32', [2], new Float32Array(2), true), TypeError, 'tensor', 'exclude');
  });
});

describe('shapes', () => {
  const creators: [string, (shape: number[]) => unknown][] = [
    ['zeros', (s) => mp.zeros(s)],
    ['full', (s) => mp.full(s, 1)],
    ['empty', (s) => mp.empty(s)],
    ['rand', (s) => mp.rand(s, { generator: g() })],
    ['randn', (s) => mp.randn(s, { generator: g() })],
    ['tensor', (s) => mp.tensor(new Float32Array(6), s)],
  ];
  const badShapes: [string, unknown, ErrorClass][] = [
    ['non-integer', [2.5, 2], TypeError],
    ['NaN', [NaN], TypeError],
    ['negative', [2, -3], RangeError],
    ['zero', [2, 0, 3], RangeError],
    ['empty (0-d)', [], RangeError],
    ['huge: 1e6 x 1e6 x 1e6', [1e6, 1e6, 1e6], RangeError],
    ['one huge dimension', [2 ** 40], RangeError],
    ['past the allocation limit', [2 ** 20, 2 ** 20, 2 ** 10], RangeError],
    ['an element count that wraps int64', [41, 2514146379, 68718952450], RangeError],
    ['rank 9', [1, 1, 1, 1, 1, 1, 1, 1, 1], RangeError],
    ['not an array', 6, TypeError],
    ['strings', ['2', '3'], TypeError],
  ];
  for (const [name, create] of creators) {
    for (const [what, shape, kind] of badShapes) {
      it(`${name} rejects a shape that is ${what} with a ${kind.name}`, () => {
        const before = mp.memory();
        expectError(() => create(shape as number[]), kind, 'shape');
        expect(mp.memory().bytes).toBe(before.bytes);
      });
    }
  }

  it('a view cannot take a shape whose element count wraps around (native view)', () => {
    mp.tidy(() => {
      const x = mp.rand([2, 3], { generator: g() });
      expectError(() => native.view(x.handle, [41, 2514146379, 68718952450]), RangeError, 'shape');
      expectError(() => native.view(x.handle, [3, 3]), RangeError, 'view');
    });
  });

  it('reshape rejects impossible shapes', () => {
    mp.tidy(() => {
      const x = mp.rand([2, 3], { generator: g() });
      expectError(() => op('reshape')(x, [4, 2]), RangeError, 'reshape');
      expectError(() => op('reshape')(x, [-1, -1]), RangeError, 'reshape');
      expectError(() => op('reshape')(x, [41, 2514146379, 68718952450]), RangeError, 'reshape');
      expectError(() => op('reshape')(x, [0, 6]), RangeError, 'reshape');
    });
  });
});

describe("the 'cuda' device on this CPU-only build", () => {
  it('creating on cuda is a TypeError that says cuda is unavailable', () => {
    const before = live();
    expectError(() => mp.zeros([2], { device: 'cuda' }), TypeError, 'cuda', 'not available');
    expectError(() => mp.full([2], 3, { device: 'cuda' }), TypeError, 'cuda');
    expectError(() => mp.rand([2], { device: 'cuda', generator: g() }), TypeError, 'cuda');
    expectError(() => mp.randn([2], { device: 'cuda', generator: g() }), TypeError, 'cuda');
    expectError(() => mp.tensor([1, 2], [2], { device: 'cuda' }), TypeError, 'cuda');
    expect(live()).toBe(before);
  });

  it('moving a tensor to cuda is a TypeError', () => {
    mp.tidy(() => {
      const x = mp.rand([2], { generator: g() });
      expectError(() => x.to('cuda'), TypeError, 'cuda');
      expectError(() => x.to('tpu' as 'cpu'), TypeError, 'device', 'tpu');
    });
  });

  it('a kernel asked to run on cuda with cpu inputs names the input and the fix', () => {
    mp.tidy(() => {
      const x = mp.rand([2], { generator: g() });
      expectError(() => native.unaryForward('cuda', 'relu', x.handle, 0, 0), TypeError, 'relu', "'x'", 'cuda');
      expectError(() => native.unaryForward('metal' as 'cpu', 'relu', x.handle, 0, 0), TypeError, 'device', 'metal');
    });
  });
});

describe('NaN and infinite scalars', () => {
  it('creators reject them', () => {
    expectError(() => mp.full([2], NaN), RangeError, 'full', 'value');
    expectError(() => mp.full([2], Infinity), RangeError, 'full', 'value');
    expectError(() => mp.rand([2], { low: NaN, generator: g() }), RangeError, 'rand', 'low');
    expectError(() => mp.randn([2], { std: NaN, generator: g() }), RangeError, 'randn', 'std');
    expectError(() => new mp.Generator(NaN), RangeError, 'Generator', 'seed');
    expectError(() => new mp.Generator(-1), RangeError, 'Generator', 'seed');
  });

  it('unary ops reject them', () => {
    mp.tidy(() => {
      const x = mp.rand([2, 2], { generator: g() });
      expectError(() => mp.leakyRelu(x, NaN), RangeError, 'p0');
      expectError(() => mp.affine(x, NaN), RangeError);
      expectError(() => mp.mulScalar(x, Infinity), RangeError);
      expectError(() => mp.addScalar(x, NaN), RangeError);
      expectError(() => mp.clamp(x, NaN, 1), RangeError, 'clamp');
      expectError(() => mp.clamp(x, 0, NaN), RangeError, 'clamp');
    });
  });

  for (const name of ['add', 'sub', 'mul', 'div']) {
    it(`${name} rejects a NaN scalar operand`, () => {
      mp.tidy(() => {
        const x = mp.rand([2, 2], { generator: g() });
        expectError(() => op(name)(x, NaN), RangeError, name);
        expectError(() => op(name)(NaN, x), RangeError, name);
      });
    });
  }

  it('thread and SIMD settings reject nonsense', () => {
    expectError(() => mp.setNumThreads(0), RangeError, 'setNumThreads');
    expectError(() => mp.setNumThreads(1.5), TypeError, 'setNumThreads');
    expectError(() => mp.setNumThreads(NaN), TypeError, 'setNumThreads');
    expectError(() => native.setSimd('sse9' as 'avx2'), TypeError, 'setSimd', 'sse9');
  });
});

describe('autograd misuse', () => {
  it('backward on a non-scalar needs an explicit gradient', () => {
    mp.tidy(() => {
      const x = mp.rand([2, 3], { generator: g() });
      x.requiresGrad = true;
      const y = mp.relu(x);
      expectError(() => y.backward(), RangeError, 'backward', '[2, 3]');
      expectError(() => y.backward(mp.ones([3, 2])), RangeError, 'backward', 'grad shape');
    });
  });

  it('backward on a tensor that needs no gradient is a TypeError', () => {
    mp.tidy(() => {
      const y = mp.relu(mp.rand([1], { generator: g() }));
      expectError(() => y.backward(), TypeError, 'backward', 'gradient');
    });
  });

  it('item() and requiresGrad_ say what is wrong', () => {
    mp.tidy(() => {
      const x = mp.rand([2, 2], { generator: g() });
      expectError(() => x.item(), RangeError, 'item', '4 elements');
      x.requiresGrad = true;
      expectError(() => mp.relu(x).requiresGrad_(false), TypeError, 'requiresGrad_', 'leaf');
    });
  });
});

describe('tidy', () => {
  it('rejects a function that returns a Promise and frees what it made', () => {
    const before = mp.memory();
    expectError(
      () =>
        mp.tidy((async () => {
          mp.rand([64], { generator: g() });
          return 1;
        }) as unknown as () => number),
      TypeError,
      'tidy',
      'Promise',
    );
    expect(mp.memory().tensors).toBe(before.tensors);
    expect(mp.memory().bytes).toBe(before.bytes);
  });

  it('frees every tensor when fn throws, and rethrows the error unchanged', () => {
    const before = live();
    const boom = new RangeError('boom');
    expect(() =>
      mp.tidy(() => {
        mp.rand([8], { generator: g() });
        mp.relu(mp.rand([8], { generator: g() }));
        throw boom;
      }),
    ).toThrow(boom);
    expect(live()).toBe(before);
  });
});

describe('op arguments (ops that have landed)', () => {
  let scope: Tensor[] = [];
  const t = (shape: number[], dtype: 'float32' | 'float64' = 'float32') => {
    const x = mp.rand(shape, { generator: g(), dtype, low: 0.5, high: 1.5 });
    scope.push(x);
    return x;
  };
  beforeEach(() => (scope = []));
  afterEach(() => {
    for (const x of scope) x.dispose();
    mp.tidy(() => undefined);
  });
  const run = (fn: () => unknown) => () => mp.tidy(() => void fn());

  it('conv2d', run(() => {
    const conv = op('conv2d');
    const x = t([1, 4, 8, 8]);
    const w = t([6, 4, 3, 3]);
    expectError(() => conv(t([4, 8, 8]), w), RangeError, 'conv2d', 'x');
    expectError(() => conv(x, t([6, 5, 3, 3])), RangeError, 'conv2d', 'weight');
    expectError(() => conv(x, w, null, { padding: -1 }), RangeError, 'conv2d', 'padding');
    expectError(() => conv(x, w, null, { stride: 0 }), RangeError, 'conv2d', 'stride');
    expectError(() => conv(x, w, null, { dilation: 0 }), RangeError, 'conv2d', 'dilation');
    expectError(() => conv(x, w, null, { dilation: 9 }), RangeError, 'conv2d');
    expectError(() => conv(x, w, t([5])), RangeError, 'conv2d', 'bias');
    expectError(() => conv(x, t([6, 4, 3, 3], 'float64')), TypeError, 'conv2d', 'float64');
    expectError(() => conv([t([1, 2, 8, 8]), t([1, 1, 8, 8])], w), RangeError, 'conv2d');
    expectError(() => conv([t([1, 2, 8, 8]), t([2, 2, 8, 8])], w), RangeError, 'conv2d');
    expectError(() => conv(x, w, null, { stride: NaN }), undefined, 'conv2d', 'stride');
  }));

  it('matmul', run(() => {
    expectError(() => op('matmul')(t([3]), t([3, 2])), RangeError, 'matmul');
    expectError(() => op('matmul')(t([2, 3]), t([4, 2])), RangeError, 'matmul');
    expectError(() => op('matmul')(t([2, 3]), t([3, 2], 'float64')), TypeError, 'matmul');
  }));

  it('linear', run(() => {
    expectError(() => op('linear')(t([2, 3]), t([4, 5])), RangeError, 'linear');
    expectError(() => op('linear')(t([2, 3]), t([4, 3]), t([5])), RangeError, 'linear', 'bias');
  }));

  for (const name of ['add', 'sub', 'mul', 'div']) {
    it(`${name} (broadcasting)`, run(() => {
      expectError(() => op(name)(t([2, 3]), t([4, 3])), RangeError, name);
      expectError(() => op(name)(t([2, 3, 4]), t([3, 5])), RangeError, name);
      expectError(() => op(name)(t([2, 3]), t([2, 3], 'float64')), TypeError, name);
      expectError(() => op(name)(t([2, 3]), 'x'), TypeError, name);
    }));
  }

  it('cat', run(() => {
    expectError(() => op('cat')([], 1), RangeError, 'cat');
    expectError(() => op('cat')([t([2, 3]), t([3, 4])], 1), RangeError, 'cat');
    expectError(() => op('cat')([t([2, 3]), t([2, 3])], 2), RangeError, 'cat', 'dim');
    expectError(() => op('cat')([t([2, 3]), t([2, 3], 'float64')], 1), TypeError, 'cat');
  }));

  it('split', run(() => {
    expectError(() => op('split')(t([2, 6]), 0, 1), RangeError, 'split');
    expectError(() => op('split')(t([2, 6]), [2, 2], 1), RangeError, 'split');
    expectError(() => op('split')(t([2, 6]), 2, 5), RangeError, 'split', 'dim');
  }));

  for (const name of ['sum', 'mean']) {
    it(name, run(() => {
      expectError(() => op(name)(t([2, 3]), [2]), RangeError, name, 'dim');
      expectError(() => op(name)(t([2, 3]), [1.5]), undefined, name, 'dim');
    }));
  }

  it('logSumExp', run(() => {
    expectError(() => op('logSumExp')(t([2, 3]), 4), RangeError, 'logSumExp', 'dim');
  }));

  it('pixelShuffle', run(() => {
    expectError(() => op('pixelShuffle')(t([1, 5, 3, 3]), 2), RangeError, 'pixelShuffle');
    expectError(() => op('pixelShuffle')(t([1, 4, 3, 3]), 0), RangeError, 'pixelShuffle');
    expectError(() => op('pixelShuffle')(t([4, 3, 3]), 2), RangeError, 'pixelShuffle');
  }));

  it('avgPool2d', run(() => {
    expectError(() => op('avgPool2d')(t([1, 2, 4, 4]), 0), RangeError, 'avgPool2d', 'kernel');
    expectError(() => op('avgPool2d')(t([1, 2, 4, 4]), 5), RangeError, 'avgPool2d');
    expectError(() => op('avgPool2d')(t([1, 2, 4, 4]), 2, 2, -1), RangeError, 'avgPool2d', 'padding');
    expectError(() => op('avgPool2d')(t([2, 4, 4]), 2), RangeError, 'avgPool2d');
  }));

  it('l1Loss', run(() => {
    expectError(() => op('l1Loss')(t([2, 3]), t([3, 2])), RangeError, 'l1Loss');
    expectError(() => op('l1Loss')(t([2, 3]), t([2, 3]), 'median'), undefined, 'l1Loss', 'reduction');
  }));
});

describe('the process survives native errors', () => {
  it('hundreds of bad native calls in a child process all throw typed errors and the child exits cleanly', () => {
    const require = createRequire(import.meta.url);
    const root = fileURLToPath(new URL('..', import.meta.url));
    const addon = process.env.MPFNET_ADDON || (require('node-gyp-build') as { path(d: string): string }).path(root);
    // Deterministic garbage: every binding gets argument lists drawn from a pool of wrong values
    // (and a few right ones, so validation further down each binding is reached too). Then shapes whose
    // element count overflows int64, in the argument positions where bindings take shapes: a product
    // computed without care there wraps around or divides by zero (SIGFPE), and no JS error is thrown.
    // Each call is announced on stderr first, so a crash names the call that caused it.
    const script = `
      const fs = require('fs');
      const a = require(process.argv[1]);
      let s = 12345;
      const rnd = (n) => ((s = (s * 1103515245 + 12345) % 2147483648) % n);
      const live = a.create('cpu', 'float32', [2, 3], new Float32Array(6).fill(0.5));
      const dead = a.create('cpu', 'float64', [3], null); a.dispose(dead);
      const wrap = [[41, 2514146379, 68718952450], [-1, 2 ** 32, 2 ** 32], [2 ** 32, 2 ** 32, -1], [2 ** 36, 2 ** 36]];
      // No large valid integers: a binding that wrongly accepts one must not take the machine's memory.
      const pool = [undefined, null, 0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 31), 3, 'cpu', 'cuda', 'gpu', 'float32',
        'float64', 'int8', 'relu', '', {}, [], [0], [-3], [2.5], [1e6, 1e6, 1e6], [2, 3], [6], [NaN], ['a'], ...wrap,
        new Float32Array(6), new Float64Array(3), new Int32Array(6), true, false,
        () => 1, 1n, Symbol('s'), live, dead, [live, dead], [live, live]];
      const skip = new Set(['setNumThreads', 'setSimd', 'setPoison']);
      const names = Object.keys(a).sort().filter((n) => typeof a[n] === 'function' && !skip.has(n));
      const counts = { calls: 0, ok: 0, TypeError: 0, RangeError: 0 };
      const other = [];
      const show = (v) => typeof v === 'symbol' || typeof v === 'bigint' || typeof v === 'function' ? String(v)
        : ArrayBuffer.isView(v) ? v.constructor.name : JSON.stringify(v);
      const call = (name, args) => {
        fs.writeSync(2, name + '(' + args.map(show).join(', ') + ')\\n');
        counts.calls++;
        try { a[name](...args); counts.ok++; }
        catch (e) {
          if (e instanceof TypeError || e instanceof RangeError) counts[e.constructor.name]++;
          else other.push(name + ': ' + (e && e.constructor && e.constructor.name) + ': ' + (e && e.message));
        }
      };
      for (const name of names) {
        for (let k = 0; k < 24; k++) {
          const n = rnd(9);
          const args = Array.from({ length: n }, () => pool[rnd(pool.length)]);
          if (k % 2 === 0 && n > 0) args[0] = 'cpu';
          call(name, args);
        }
      }
      // The random calls above may have disposed 'live'; these need a tensor that is certainly alive.
      const x = a.create('cpu', 'float32', [2, 3], new Float32Array(6).fill(0.25));
      for (const name of names.filter((n) => n !== 'dispose')) {
        for (const w of wrap) {
          for (const args of [['cpu', x, w, false], ['cpu', x, w, true], ['cpu', x, w, 1], ['cpu', x, w],
            ['cpu', 'float32', w, 1, 0, 0, 1], ['cpu', 'float32', w, null], [x, w], ['cpu', w]]) call(name, args);
        }
      }
      console.log(JSON.stringify({ counts, other }));
    `;
    const env = { ...process.env, MPFNET_NUM_THREADS: '2' };
    const r = spawnSync(process.execPath, ['-e', script, addon], { encoding: 'utf8', env, timeout: 60_000 });
    const lastCall = r.stderr.trim().split('\n').pop();
    expect(r.signal, `the child died during ${lastCall}`).toBeNull();
    expect(r.status, `the child failed during ${lastCall}\n${r.stderr.slice(-2000)}`).toBe(0);
    const { counts, other } = JSON.parse(r.stdout) as { counts: Record<string, number>; other: string[] };
    expect(other).toEqual([]);
    expect(counts.calls).toBeGreaterThan(300);
    expect(counts.TypeError! + counts.RangeError!).toBeGreaterThan(counts.calls! / 2);
  });
});
