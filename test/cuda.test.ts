// The CUDA backend as far as a machine without a GPU can check it: the plugin is built where nvcc
// is (CI compiles every .cu file), cudaAvailable() says why CUDA is unusable, every 'cuda' request
// fails with a TypeError naming the op, and the CPU addon is unaffected. On a machine with a GPU
// a quick parity subset runs too (the full check is test/gpu/check.mjs, `npm run test:gpu`).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { native } from '../bindings/index.js';
import * as mp from '../lib/index.js';

const status = mp.cudaAvailable();
const hasGpu = status.available;
const nvcc = spawnSync('nvcc', ['--version'], { encoding: 'utf8' }).status === 0;
const cudaOff = ['0', 'off', 'false', 'no'].includes((process.env.MPFNET_CUDA ?? '').toLowerCase());
const prebuilt = /[\\/]prebuilds[\\/]/.test(status.plugin);

describe('CUDA plugin', () => {
  it('cudaAvailable() reports availability, and the reason when unavailable', () => {
    expect(typeof status.available).toBe('boolean');
    expect(typeof status.plugin).toBe('string');
    if (hasGpu) {
      expect(status.reason).toBeNull();
      expect(status.device).toBeTruthy();
      expect(status.driver).toMatch(/^\d+\.\d+$/);
    } else {
      expect(status.reason).toEqual(expect.any(String));
      expect(status.reason!.length).toBeGreaterThan(10);
    }
    // Asking again gives the same answer (the plugin is loaded once).
    expect(mp.cudaAvailable()).toEqual(status);
  });

  it.skipIf(!nvcc || cudaOff || prebuilt)('is built next to the addon where nvcc is found', () => {
    expect(status.plugin).toMatch(/mpfnet_cuda\.so$/);
    expect(existsSync(status.plugin), `${status.plugin} (built by native/cuda/CMakeLists.txt)`).toBe(true);
    // Without a GPU the plugin still loads; the reason is about the driver or device, not the file.
    if (!hasGpu) expect(status.reason).not.toMatch(/no CUDA plugin|cannot load the CUDA plugin/);
  });

  it('the CPU addon works whatever CUDA says', () => {
    mp.tidy(() => {
      const x = mp.tensor([1, -2, 3, -4], [2, 2]);
      expect(mp.relu(x).toArray()).toEqual([1, 0, 3, 0]);
      expect(mp.memory().cudaCachedBytes).toBeGreaterThanOrEqual(0);
    });
  });
});

describe.skipIf(hasGpu)('without a usable GPU', () => {
  const msg = (name: string) => new RegExp(`^${name}: device 'cuda' is not available: `);

  it("creating a tensor on 'cuda' throws a TypeError naming the op and the reason", () => {
    expect(() => mp.tensor([1, 2], [2], { device: 'cuda' })).toThrow(TypeError);
    expect(() => mp.tensor([1, 2], [2], { device: 'cuda' })).toThrow(msg('tensor'));
    expect(() => mp.zeros([2, 3], { device: 'cuda' })).toThrow(msg('full'));
    expect(() => mp.rand([2, 3], { device: 'cuda' })).toThrow(msg('rand'));
    expect(() => mp.randn([2, 3], { device: 'cuda' })).toThrow(msg('randn'));
    expect(() => mp.tensor([1], [1], { device: 'cuda' })).toThrow(status.reason!);
  });

  it(".to('cuda') throws a TypeError naming it; .to('cpu') of a CPU tensor is itself", () => {
    mp.tidy(() => {
      const x = mp.rand([3, 4]);
      expect(() => x.to('cuda')).toThrow(TypeError);
      expect(() => x.to('cuda')).toThrow(msg('to'));
      expect(x.to('cpu')).toBe(x);
    });
  });

  it('the CUDA controls throw a TypeError naming themselves', () => {
    expect(() => mp.cudaSynchronize()).toThrow(msg('cudaSynchronize'));
    expect(() => mp.cudaMemory()).toThrow(msg('cudaMemory'));
    expect(() => mp.cudaOptions()).toThrow(msg('cudaOptions'));
    expect(() => native.cudaGraphBegin()).toThrow(msg('cudaGraphBegin'));
  });

  it('CudaGraph.capture refuses a CPU example, naming it', () => {
    mp.tidy(() => {
      const x = mp.rand([1, 3, 4, 4]);
      expect(() => mp.CudaGraph.capture((t) => mp.relu(t), x)).toThrow(TypeError);
      expect(() => mp.CudaGraph.capture((t) => mp.relu(t), x)).toThrow(/'example' must be on device 'cuda', got 'cpu'/);
    });
  });

  it('an op asked to run on cuda with CPU tensors names the misplaced argument', () => {
    mp.tidy(() => {
      const a = mp.rand([2, 2]);
      const b = mp.rand([2, 2]);
      expect(() => native.binaryForward('cuda', 'add', a.handle, b.handle)).toThrow(TypeError);
      expect(() => native.binaryForward('cuda', 'add', a.handle, b.handle)).toThrow(/add: 'a' is on cpu but the op runs on cuda/);
      expect(() => native.unaryForward('cuda', 'relu', a.handle, 0, 0)).toThrow(/relu: 'x' is on cpu/);
      expect(() => native.conv2dForward('cuda', [a.handle], b.handle, null, [1, 1], [0, 0], [1, 1])).toThrow(TypeError);
    });
  });

  it('nothing leaks from the failed requests', () => {
    const before = mp.memory();
    for (let i = 0; i < 3; i++) expect(() => mp.zeros([64, 64], { device: 'cuda' })).toThrow(TypeError);
    const after = mp.memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.cudaBytes).toBe(0);
  });
});

// Quick parity on a real GPU: the same seeded inputs on both devices, forward and gradients.
describe.skipIf(!hasGpu)('CUDA matches the CPU (quick subset)', () => {
  const close = (gpu: mp.Tensor, cpu: mp.Tensor, what: string, tol = 1e-4) => {
    const a = gpu.toFloat64Array();
    const b = cpu.toFloat64Array();
    expect(a.length, what).toBe(b.length);
    let err = 0;
    let scale = 1e-30;
    for (let i = 0; i < a.length; i++) {
      err = Math.max(err, Math.abs(a[i]! - b[i]!));
      scale = Math.max(scale, Math.abs(b[i]!));
    }
    expect(err / scale, what).toBeLessThanOrEqual(tol);
  };

  // f(inputs) on both devices; compares outputs and the gradients of sum(f · w).
  const both = (name: string, shapes: number[][], f: (xs: mp.Tensor[]) => mp.Tensor) => {
    mp.tidy(() => {
      const cpuIn = shapes.map((s, i) => mp.randn(s, { generator: new mp.Generator(10 + i) }).requiresGrad_());
      const gpuIn = cpuIn.map((t) => t.to('cuda').requiresGrad_());
      const yc = f(cpuIn);
      const yg = f(gpuIn);
      expect(yg.device).toBe('cuda');
      close(yg, yc, `${name} forward`);
      const w = mp.randn(yc.shape, { generator: new mp.Generator(99) });
      mp.sum(mp.mul(yc, w)).backward();
      mp.sum(mp.mul(yg, w.to('cuda'))).backward();
      cpuIn.forEach((t, i) => close(gpuIn[i]!.grad!, t.grad!, `${name} grad ${i}`));
    });
  };

  it('random fills draw the same numbers', () => {
    mp.tidy(() => {
      const a = mp.randn([1000], { generator: new mp.Generator(5) });
      const b = mp.randn([1000], { generator: new mp.Generator(5), device: 'cuda' });
      close(b, a, 'randn', 1e-6);
    });
  });
  it('unary and binary ops with broadcasting', () => {
    both('selu', [[2, 3, 8, 8]], ([x]) => mp.selu(x!));
    both('sigmoid·mul', [[2, 3, 8, 8], [2, 3, 1, 1]], ([x, s]) => mp.mul(x!, mp.sigmoid(s!)));
    both('div', [[4, 5], [5]], ([a, b]) => mp.div(a!, mp.addScalar(mp.abs(b!), 1)));
  });
  it('reductions, shape ops and the loss', () => {
    both('mean hw', [[2, 3, 8, 8]], ([x]) => mp.mean(x!, [2, 3], true));
    both('sum all', [[2, 3, 5]], ([x]) => mp.sum(x!));
    both('cat/pixelShuffle', [[1, 4, 3, 3], [1, 4, 3, 3]], ([a, b]) => mp.pixelShuffle(mp.cat([a!, b!], 1), 2));
    both('l1', [[2, 3, 4, 4], [2, 3, 4, 4]], ([a, b]) => mp.l1Loss(a!, b!));
  });
  it('conv2d over two parts with dilation, and linear', () => {
    both('conv2d', [[2, 3, 9, 9], [2, 2, 9, 9], [4, 5, 3, 3], [4]], ([a, b, w, bias]) =>
      mp.conv2d([a!, b!], w!, bias, { padding: 3, dilation: 3 }));
    both('conv2d + selu', [[2, 3, 9, 9], [2, 2, 9, 9], [4, 5, 3, 3], [4]], ([a, b, w, bias]) =>
      mp.conv2d([a!, b!], w!, bias, { padding: 1, activation: 'selu' }));
    both('linear', [[6, 7], [3, 7], [3]], ([x, w, b]) => mp.linear(x!, w!, b));
  });
  it('a CUDA graph replays the pass: the eager result for each new input, memory back after dispose', () => {
    const before = mp.memory();
    const allocated = mp.cudaMemory().allocated;
    const w = mp.randn([6, 3, 3, 3], { generator: new mp.Generator(1), device: 'cuda' });
    const b = mp.randn([6], { generator: new mp.Generator(2), device: 'cuda' });
    const f = (x: mp.Tensor) => mp.selu(mp.add(mp.conv2d(x, w, b, { padding: 1 }), mp.mean(x)));
    const xs = [3, 4, 5].map((seed) => mp.randn([2, 3, 9, 11], { generator: new mp.Generator(seed), device: 'cuda' }));
    const graph = mp.CudaGraph.capture(f, xs[0]!);
    for (const x of xs) {
      const want = mp.tidy(() => mp.noGrad(() => f(x)));
      expect(Array.from(graph.run(x).toFloat64Array())).toEqual(Array.from(want.toFloat64Array()));
      want.dispose();
    }
    const wrong = mp.zeros([2, 3, 9, 10], { device: 'cuda' });
    expect(() => graph.run(wrong)).toThrow(/cudaGraphLaunch/);
    wrong.dispose();
    graph.dispose();
    graph.dispose();
    expect(() => graph.run()).toThrow(/disposed/);
    for (const t of [w, b, ...xs]) t.dispose();
    expect(mp.memory().tensors).toBe(before.tensors);
    expect(mp.cudaMemory().allocated).toBe(allocated);
  });

  it('a graph keeps the memory it may read: freed weights are not handed out or returned until it goes', () => {
    const w = mp.randn([64, 64], { generator: new mp.Generator(1), device: 'cuda' });
    const x = mp.randn([8, 64], { generator: new mp.Generator(2), device: 'cuda' });
    const graph = mp.CudaGraph.capture((t) => mp.matmul(t, w), x);
    mp.emptyCache();
    const cached = mp.cudaMemory().cached;
    w.dispose();
    mp.emptyCache();
    expect(mp.cudaMemory().cached).toBeGreaterThan(cached); // w's block, kept for the graph
    graph.run(x); // reads stale weights, but valid memory
    graph.dispose();
    x.dispose();
    mp.emptyCache();
    expect(mp.cudaMemory().cached).toBe(0);
  });

  it('a pass that copies to the host cannot be captured: a clear error, nothing kept', () => {
    const before = mp.memory().tensors;
    const x = mp.randn([4, 4], { generator: new mp.Generator(1), device: 'cuda' });
    expect(() => mp.CudaGraph.capture((t) => mp.mul(t, mp.sum(t).item()), x)).toThrow(/capture/);
    x.dispose();
    expect(mp.memory().tensors).toBe(before);
    // The stream works normally again.
    mp.tidy(() => {
      expect(mp.sum(mp.ones([3], { device: 'cuda' })).item()).toBe(3);
    });
  });

  it('upscale on cuda with CUDA graphs gives the pixels of the op-by-op passes', async () => {
    const model = mp.createModel({ scale: 2, nCpb: 2, channels: 8 }, { seed: 1 });
    const input = mp.rand([1, 3, 30, 38], { generator: new mp.Generator(3) });
    const runs: Float32Array[] = [];
    for (const cudaGraph of [false, true]) {
      const up = await mp.Upscaler.create({ model, device: 'cuda', cudaGraph });
      const y = await up.upscale(input, { tile: 12, tilePad: 4 });
      runs.push(y.toFloat32Array());
      y.dispose();
      await up.close();
    }
    expect(Array.from(runs[1]!)).toEqual(Array.from(runs[0]!));
    input.dispose();
    model.dispose();
  }, 120_000);

  it('device memory returns to the allocator', () => {
    const before = mp.memory().cudaBytes;
    mp.tidy(() => void mp.conv2d(mp.rand([1, 3, 16, 16], { device: 'cuda' }), mp.rand([8, 3, 3, 3], { device: 'cuda' })));
    expect(mp.memory().cudaBytes).toBe(before);
  });
});
