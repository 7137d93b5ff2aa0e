// The CPU thread pool (native/common/thread_pool.cc): MPFNET_NUM_THREADS sizes it at start-up,
// setNumThreads resizes it, and results never depend on the thread count for ops without reductions
// (each element is computed the same way whichever thread computes it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import type { Tensor } from '../lib/index.js';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const addonPath = process.env.MPFNET_ADDON || (require('node-gyp-build') as { path(d: string): string }).path(root);

/** numThreads() and the number of OS threads in a fresh process started with `env`. */
function probe(env: Record<string, string | undefined>): { numThreads: number; osThreads: number } {
  // The pool starts on first use; a 1M-element fill runs in parallel, so every worker exists by then.
  const script = `
    const fs = require('fs');
    const a = require(process.argv[1]);
    const n = a.numThreads();
    a.dispose(a.full('cpu', 'float32', [1 << 20], 1));
    const osThreads = fs.existsSync('/proc/self/task') ? fs.readdirSync('/proc/self/task').length : -1;
    console.log(JSON.stringify({ numThreads: n, osThreads }));
  `;
  const childEnv = { ...process.env, ...env };
  for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k];
  const r = spawnSync(process.execPath, ['-e', script, addonPath], { encoding: 'utf8', env: childEnv, timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { numThreads: number; osThreads: number };
}

describe('thread pool size', () => {
  it('honours MPFNET_NUM_THREADS=1 and =3 in a fresh process', () => {
    const one = probe({ MPFNET_NUM_THREADS: '1' });
    const three = probe({ MPFNET_NUM_THREADS: '3' });
    expect(one.numThreads).toBe(1);
    expect(three.numThreads).toBe(3);
    // The caller's thread works too, so a pool of n starts n - 1 workers.
    if (existsSync('/proc/self/task')) expect(three.osThreads - one.osThreads).toBe(2);
  });

  it('ignores a malformed MPFNET_NUM_THREADS and uses the CPUs available', () => {
    const dflt = probe({ MPFNET_NUM_THREADS: undefined });
    expect(dflt.numThreads).toBeGreaterThanOrEqual(1);
    for (const bad of ['0', '-2', 'abc', '']) expect(probe({ MPFNET_NUM_THREADS: bad }).numThreads).toBe(dflt.numThreads);
  });

  it('setNumThreads resizes the pool and getNumThreads reports it', () => {
    const before = mp.getNumThreads();
    try {
      for (const n of [1, 3, 2]) {
        mp.setNumThreads(n);
        expect(mp.getNumThreads()).toBe(n);
        // The resized pool works: a parallel op still writes every element.
        const s = mp.tidy(() => mp.full([1 << 18], 2).toFloat32Array());
        expect(s.every((v) => v === 2)).toBe(true);
      }
    } finally {
      mp.setNumThreads(before);
    }
  });
});

describe('results do not depend on the thread count', () => {
  const before = mp.getNumThreads();
  afterAll(() => mp.setNumThreads(before));

  type AnyFn = (...args: unknown[]) => Tensor;
  const api = mp as unknown as Record<string, AnyFn>;
  const sameBits = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

  /** Float bits of a forward + backward pass over a large tensor (big enough to be split up). */
  function run(threads: number): Float32Array[] {
    mp.setNumThreads(threads);
    return mp.tidy(() => {
      const g = new mp.Generator(5);
      const x = mp.randn([4, 8, 96, 97], { generator: g });
      x.requiresGrad = true;
      let y = mp.selu(mp.sigmoid(mp.leakyRelu(x, 0.2)));
      y = mp.exp(mp.clamp(y, -1, 1));
      if (typeof api.mul === 'function') y = api.mul(y, mp.rand([1, 8, 1, 97], { generator: g }));
      if (typeof api.add === 'function') y = api.add(y, mp.rand([8, 96, 1], { generator: g }));
      y.backward(mp.randn([...y.shape], { generator: g }));
      return [x.toFloat32Array(), y.toFloat32Array(), x.grad!.toFloat32Array()];
    });
  }

  it('is bit-identical with 1, 2 and 3 threads for elementwise ops, broadcasting and random fills', () => {
    const ref = run(1);
    for (const n of [2, 3]) {
      const got = run(n);
      for (let k = 0; k < ref.length; k++) {
        expect(sameBits(got[k]!, ref[k]!), `output ${k} with ${n} threads`).toBe(true);
      }
    }
  });

  /** A Winograd convolution's forward (blocks), input gradient (blocks) and the sums of an SE pooling. */
  function conv(threads: number): Float32Array[] {
    mp.setNumThreads(threads);
    return mp.tidy(() => {
      const g = new mp.Generator(11);
      const x = mp.randn([2, 24, 37, 41], { generator: g });
      x.requiresGrad = true;
      const w = mp.randn([20, 24, 3, 3], { generator: g, std: 0.1 });
      const b = mp.randn([20], { generator: g });
      const { y, means } = mp.conv2dWithMeans(x, w, b, { padding: 1 });
      y.backward(mp.randn([...y.shape], { generator: g }));
      return [y.toFloat32Array(), means.toFloat32Array(), x.grad!.toFloat32Array()];
    });
  }

  // Each thread runs its own contiguous range of a region's tasks and then takes tasks from the back
  // of the others' (native/common/thread_pool.cc). With more threads than this machine has cores,
  // threads are descheduled mid-region and the others take over their ranges, so who runs which task
  // changes from call to call; outputs and input gradients must still be the one-thread bits. The
  // channel means are summed in block order and the blocks' size depends on the thread count, so they
  // must repeat bit for bit at one thread count.
  it('is bit-identical with 1, 2 and 5 threads for conv2d forward and input gradient; means repeat', () => {
    const [y1, , gx1] = conv(1);
    for (const n of [2, 5]) {
      const first = conv(n);
      for (let rep = 0; rep < 3; rep++) {
        const [y, means, gx] = rep === 0 ? first : conv(n);
        expect(sameBits(y!, y1!), `y with ${n} threads`).toBe(true);
        expect(sameBits(gx!, gx1!), `x.grad with ${n} threads`).toBe(true);
        expect(sameBits(means!, first[1]!), `means with ${n} threads, run ${rep}`).toBe(true);
      }
    }
  });
});
