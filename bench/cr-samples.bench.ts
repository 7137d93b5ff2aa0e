// The sample generator of contrastive regularisation (native/cpu/cr_samples.cc) at docs/model.md §3's
// default: 3 sharpened positives (3×3 SMOOTH kernel, kept border) and 4 blurred + noised negatives
// (Gaussians up to 11×11) per image, batch 4 of 192×192 HR patches.
import { native } from '../bindings/index.js';
import { Generator, rand, tensor, type Tensor } from '../lib/index.js';
import { drawBlur, drawSharpen, DEFAULT_BLUR, DEFAULT_SHARPEN } from '../lib/losses/samples.js';
import type { BenchCase } from './harness.js';

export const group = 'cr-samples';

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  const n = 4;
  const hw = 192;
  for (const kind of ['sharpen', 'blur'] as const) {
    const params = kind === 'sharpen' ? drawSharpen(n, 3, DEFAULT_SHARPEN, new Generator(1)) : drawBlur(n, 4, DEFAULT_BLUR, new Generator(1)).map((p) => ({ ...p, kernel: p.kernel, size: p.size }));
    // Every kernel padded to the largest (what the generators send), 11×11 for the blur.
    const K = Math.max(...params.map((p) => p.size));
    const kdata = new Float32Array(params.length * K * K);
    params.forEach((p, m) => {
      const off = (K - p.size) / 2;
      for (let i = 0; i < p.size; i++) for (let j = 0; j < p.size; j++) kdata[m * K * K + (i + off) * K + j + off] = p.kernel[i * p.size + j]!;
    });
    let x: Tensor, k: Tensor;
    const m = params.length;
    const taps = params.reduce((a, p) => a + p.size * p.size, 0);
    out.push({
      group,
      name: `crSamples ${kind} ${m} samples of [3x${hw}x${hw}]`,
      params: { kind, n, hw, source: params.map((p) => p.source), keep: params.map((p) => p.keep), factor: params.map((p) => p.factor), sigma: params.map((p) => p.noise), K, kernels: Array.from(kdata) },
      flops: 2 * taps * 3 * hw * hw,
      setup: () => {
        x = rand([n, 3, hw, hw]);
        k = tensor(kdata, [m, K, K]);
      },
      fn: () => {
        native.dispose(native.crSamples('cpu', x.handle, k.handle, params.map((p) => p.source), params.map((p) => p.keep), params.map((p) => p.factor), params.map((p) => p.noise), 1, 0, true));
      },
      teardown: () => {
        x.dispose();
        k.dispose();
      },
    });
  }
  return out;
}
