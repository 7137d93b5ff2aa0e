// Native memory accounting: memory() counts live handles, buffers and bytes; dispose, tidy and the
// autograd tape give everything back; a long training-like loop stays flat; and a tensor the caller
// forgot is freed by the FinalizationRegistry once the garbage collector takes its JS object.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { native } from '../bindings/index.js';
import * as mp from '../lib/index.js';
import type { Tensor } from '../lib/index.js';

type AnyFn = (...args: unknown[]) => Tensor;
const api = mp as unknown as Record<string, unknown>;
const present = (name: string): boolean => typeof api[name] === 'function';
const op = (name: string): AnyFn => api[name] as AnyFn;

// Live counters only: cachedBytes (freed blocks kept for reuse) moves with allocation patterns.
const mem = () => {
  const { cachedBytes: _cached, ...live } = mp.memory();
  return live;
};
const g = (seed = 3) => new mp.Generator(seed);

describe('memory() counters', () => {
  it('rise on creation and fall on dispose, in bytes of the dtype', () => {
    const m0 = mem();
    const a = mp.zeros([10, 10]);
    const b = mp.rand([3, 5], { dtype: 'float64', generator: g() });
    const m1 = mem();
    expect(m1.tensors - m0.tensors).toBe(2);
    expect(m1.storages - m0.storages).toBe(2);
    expect(m1.bytes - m0.bytes).toBe(10 * 10 * 4 + 3 * 5 * 8);
    a.dispose();
    expect(mem().bytes - m0.bytes).toBe(3 * 5 * 8);
    b.dispose();
    expect(mem()).toEqual(m0);
  });

  it('count a view as a handle sharing its base buffer, which lives until both are gone', () => {
    const m0 = mem();
    const x = mp.rand([4, 6], { generator: g() });
    const views = [x.detach()];
    if (present('reshape')) views.push(op('reshape')(x, [6, 4]));
    if (present('flatten')) views.push(op('flatten')(x, 0));
    const m1 = mem();
    expect(m1.tensors - m0.tensors).toBe(1 + views.length);
    expect(m1.storages - m0.storages).toBe(1);
    expect(m1.bytes - m0.bytes).toBe(4 * 6 * 4);
    x.dispose();
    // The base handle is gone; its buffer stays for the views.
    expect(mem().tensors - m0.tensors).toBe(views.length);
    expect(mem().bytes - m0.bytes).toBe(4 * 6 * 4);
    expect(views[0]!.toFloat32Array().length).toBe(24);
    for (const v of views) v.dispose();
    expect(mem()).toEqual(m0);
  });

  it('tidy frees everything but its result; nested scopes hand results outwards; keep() escapes', () => {
    const m0 = mem();
    let kept: Tensor | undefined;
    const out = mp.tidy(() => {
      const a = mp.rand([8], { generator: g() });
      const inner = mp.tidy(() => {
        const b = mp.exp(a);
        kept = mp.keep(mp.sigmoid(b));
        return { pair: [mp.tanh(b), mp.relu(b)] };
      });
      expect(mem().tensors - m0.tensors).toBe(4); // a, kept and the pair
      return inner.pair[0]!;
    });
    expect(mem().tensors - m0.tensors).toBe(2); // out and kept
    expect(out.isDisposed).toBe(false);
    expect(kept!.isDisposed).toBe(false);
    out.dispose();
    kept!.dispose();
    expect(mem()).toEqual(m0);
  });

  it('backward frees every intermediate gradient; a leaf takes its .grad with it on dispose', () => {
    const m0 = mem();
    const x = mp.rand([2, 3, 4], { dtype: 'float64', generator: g(), low: 0.5, high: 1.5 });
    x.requiresGrad = true;
    mp.tidy(() => {
      const y = mp.sqrt(mp.sigmoid(mp.square(mp.log(x))));
      y.backward(mp.onesLike(y));
    });
    expect(x.grad).not.toBeNull();
    expect(mem().tensors - m0.tensors).toBe(2); // x and x.grad
    x.dispose();
    expect(mem()).toEqual(m0);
  });

  it('errors thrown by native validation leak nothing', () => {
    const m0 = mem();
    for (let i = 0; i < 50; i++) {
      expect(() => mp.zeros([2, -1])).toThrow(RangeError);
      expect(() => mp.tensor([1, 2, 3], [2, 2])).toThrow(RangeError);
      expect(() => mp.zeros([2], { device: 'cuda' })).toThrow(TypeError);
      expect(() => mp.tensor([1, 2], [2], { device: 'cuda' })).toThrow(TypeError);
    }
    expect(mem()).toEqual(m0);
  });
});

describe('a 1000-step forward/backward loop', () => {
  it('leaves memory() flat', () => {
    const m0 = mem();
    const gen = g(11);
    // Parameters of a tiny model built from whichever ops exist; updated in place like an optimiser.
    const params: Tensor[] = [];
    const param = (shape: number[]) => {
      const p = mp.randn(shape, { generator: gen, std: 0.1 });
      p.requiresGrad = true;
      params.push(p);
      return p;
    };
    const w = param([1, 4, 8, 8]);
    const convW = present('conv2d') ? param([4, 4, 3, 3]) : null;
    const linW = present('linear') ? param([3, 4 * 8 * 8]) : null;
    const x = mp.rand([1, 4, 8, 8], { generator: gen, low: 0.5, high: 1.5 });

    const forward = (): Tensor => {
      // Without a binary op there is no way to combine x and w yet: then the loop runs on w alone.
      let h = present('mul') ? op('mul')(mp.leakyRelu(mp.affine(x, 0.9, 0.1), 0.1), w) : mp.tanh(w);
      h = mp.selu(mp.sigmoid(h));
      if (convW) h = op('conv2d')(h, convW, null, { padding: 1 });
      if (present('cat') && present('split')) h = (op('split') as unknown as (t: Tensor, s: number, d: number) => Tensor[])(op('cat')([h, h], 1), 4, 1)[1]!;
      if (present('avgPool2d') && present('pixelShuffle')) h = op('pixelShuffle')(mp.square(op('avgPool2d')(h, 3, 1, 1)), 1);
      if (present('add')) h = op('add')(h, mp.clamp(h, -0.5, 0.5));
      if (linW && present('reshape')) h = op('linear')(op('reshape')(h, [1, -1]), linW);
      if (present('l1Loss') && present('zerosLike')) return op('l1Loss')(h, mp.zerosLike(h));
      if (present('mean')) return op('mean')(mp.abs(h));
      return h; // backward below seeds it explicitly
    };

    const step = () => {
      mp.tidy(() => {
        const loss = forward();
        loss.backward(loss.numel === 1 ? undefined : mp.onesLike(loss));
      });
      mp.noGrad(() => {
        for (const p of params) {
          native.axpyInPlace(p.device, p.handle, p.grad!.handle, -1e-3);
          p.grad!.dispose();
          p.grad = null;
        }
      });
    };

    for (let i = 0; i < 10; i++) step(); // warm-up: any lazily created state exists by now
    const warm = mem();
    let peakTensors = 0;
    for (let i = 0; i < 1000; i++) {
      step();
      peakTensors = Math.max(peakTensors, mem().tensors);
    }
    const end = mem();
    expect(end).toEqual(warm);
    expect(peakTensors).toBe(warm.tensors); // nothing piles up between steps either
    expect(w.toFloat32Array().every(Number.isFinite)).toBe(true);
    for (const p of params) p.dispose();
    x.dispose();
    expect(mem()).toEqual(m0);
  });
});

describe('FinalizationRegistry', () => {
  it('frees a tensor that was never disposed once its JS object is collected', async () => {
    // gc() without --expose-gc on the command line: turn the flag on, then take gc from a new context.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const m0 = mem();
    (() => {
      for (let i = 0; i < 100; i++) mp.rand([256], { generator: g(i) }); // forgotten at once
    })();
    expect(mem().tensors - m0.tensors).toBe(100);
    // Finalizers run as tasks after a collection; give them a few turns.
    for (let i = 0; i < 50 && mem().tensors > m0.tensors; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(mem().tensors).toBe(m0.tensors);
    expect(mem().bytes).toBe(m0.bytes);
  });
});

describe('the CPU allocator cache', () => {
  it('keeps freed blocks for reuse and returns them on emptyCache()', () => {
    const t = mp.zeros([1000, 1000]);
    t.dispose();
    expect(mp.memory().cachedBytes).toBeGreaterThanOrEqual(4_000_000);
    const again = mp.zeros([1000, 1000]);
    const cachedWhileInUse = mp.memory().cachedBytes;
    again.dispose();
    expect(mp.memory().cachedBytes).toBeGreaterThan(cachedWhileInUse);
    mp.emptyCache();
    expect(mp.memory().cachedBytes).toBe(0);
  });
});

