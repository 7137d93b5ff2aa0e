// The sample generators of contrastive regularisation (native/cpu/cr_samples.cc,
// lib/losses/samples.ts): the kernel against a plain reference, the statistics the samples must
// have (sharpening raises and blurring lowers high-frequency energy by what the filters' frequency
// responses predict; noise has the drawn σ), determinism, and argument checks.
import { describe, expect, it } from 'vitest';
import { native } from '../bindings/index.js';
import { Generator, rand, randn, tensor, tidy, type Tensor } from '../lib/index.js';
import { crSamples } from '../lib/ops/cr-samples.js';
import { blurredSamples, drawBlur, otherImages, sharpenedSamples, smoothKernel, upsampledLR, DEFAULT_BLUR, type SampleParams } from '../lib/losses/samples.js';
import { createModel } from '../lib/models/mpfnet/mpfnet.js';
import { teacherSamples } from '../lib/losses/samples.js';
import { expectClose } from './helpers/gradcheck.js';

const reflect = (i: number, n: number) => {
  if (n === 1) return 0;
  const p = 2 * (n - 1);
  const m = ((i % p) + p) % p;
  return m < n ? m : p - m;
};

/** y = clip(D + f(x − D)), D = k ⊛ x with reflect-101, D = x within `keep` of an edge; no noise. */
function reference(x: Float64Array, c: number, h: number, w: number, k: Float64Array, ks: number, f: number, keep: number): Float64Array {
  const y = new Float64Array(c * h * w);
  const r = (ks - 1) / 2;
  for (let ch = 0; ch < c; ch++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        const xv = x[(ch * h + i) * w + j]!;
        let d = 0;
        for (let u = 0; u < ks; u++) for (let v = 0; v < ks; v++) d += k[u * ks + v]! * x[(ch * h + reflect(i + u - r, h)) * w + reflect(j + v - r, w)]!;
        if (i < keep || j < keep || i >= h - keep || j >= w - keep) d = xv;
        y[(ch * h + i) * w + j] = Math.min(1, Math.max(0, d + f * (xv - d)));
      }
  return y;
}

/** Mean squared response to the 5-point Laplacian, over pixels at least `margin` from every edge. */
function laplacianEnergy(t: Float64Array, c: number, h: number, w: number, margin: number): number {
  let s = 0;
  let n = 0;
  for (let ch = 0; ch < c; ch++)
    for (let i = margin; i < h - margin; i++)
      for (let j = margin; j < w - margin; j++) {
        const at = (a: number, b: number) => t[(ch * h + a) * w + b]!;
        const v = 4 * at(i, j) - at(i - 1, j) - at(i + 1, j) - at(i, j - 1) - at(i, j + 1);
        s += v * v;
        n++;
      }
  return s / n;
}

/**
 * For white-noise input, the expected ratio of Laplacian energies after / before a filter with
 * frequency response R(ω): ∫ |L(ω)|² |R(ω)|² dω / ∫ |L(ω)|² dω (Parseval), L(ω) = 4 − 2cos ωx − 2cos ωy,
 * integrated on a 128 × 128 grid (exact for filters this small).
 */
function expectedRatio(response: (wy: number, wx: number) => number): number {
  const G = 128;
  let num = 0;
  let den = 0;
  for (let a = 0; a < G; a++)
    for (let b = 0; b < G; b++) {
      const wy = (2 * Math.PI * a) / G;
      const wx = (2 * Math.PI * b) / G;
      const l = 4 - 2 * Math.cos(wx) - 2 * Math.cos(wy);
      const r = response(wy, wx);
      num += l * l * r * r;
      den += l * l;
    }
  return num / den;
}

/** The frequency response of a centred, symmetric size × size kernel (real: a sum of cosines). */
function kernelResponse(k: Float64Array, size: number): (wy: number, wx: number) => number {
  const c = (size - 1) / 2;
  return (wy, wx) => {
    let s = 0;
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) s += k[i * size + j]! * Math.cos(wy * (i - c) + wx * (j - c));
    return s;
  };
}

/** The response of D + f·(x − D) = f·x + (1 − f)·D. */
const sharpenResponse = (p: SampleParams) => {
  const d = kernelResponse(p.kernel, p.size);
  return (wy: number, wx: number) => p.factor + (1 - p.factor) * d(wy, wx);
};

function plane(t: Tensor, m: number): Float64Array {
  const [, c, h, w] = t.shape as number[];
  return t.toFloat64Array().slice(m * c! * h! * w!, (m + 1) * c! * h! * w!);
}

describe('crSamples kernel', () => {
  it('computes clip(D + f(x − D)) with reflect-101 borders and the kept frame, in float32 and float64', () => {
    tidy(() => {
      const x = rand([2, 2, 7, 9], { generator: new Generator(1), dtype: 'float64' });
      const ks = [smoothKernel(), Float64Array.from({ length: 25 }, (_, i) => ((i * 7) % 5) / 40 - 0.02)];
      // Kernel 0 (3×3) zero-padded to 5×5 like the generators send it.
      const padded = new Float64Array(2 * 25);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) padded[(i + 1) * 5 + j + 1] = ks[0]![i * 3 + j]!;
      padded.set(ks[1]!, 25);
      const kt = tensor(padded, [2, 5, 5], { dtype: 'float64' });
      const o = { source: [1, 0], keep: [1, 0], factor: [2.2, 0.6], generator: new Generator(0) };
      const y = crSamples(x, kt, o);
      const xs = [plane(x, 1), plane(x, 0)];
      expectClose(plane(y, 0), reference(xs[0]!, 2, 7, 9, ks[0]!, 3, 2.2, 1), 1e-12, 'sample 0');
      expectClose(plane(y, 1), reference(xs[1]!, 2, 7, 9, ks[1]!, 5, 0.6, 0), 1e-12, 'sample 1');
      const y32 = crSamples(x.astype('float32'), kt.astype('float32'), { ...o, generator: new Generator(0) });
      expectClose(y32.toFloat64Array(), y.toFloat64Array(), 1e-5, 'float32');
      // PCL keeps the outermost ring: equal to x there, bit for bit.
      const s0 = plane(y, 0);
      for (let j = 0; j < 9; j++) expect(s0[j]).toBe(Math.min(1, Math.max(0, xs[0]![j]!)));
    });
  });

  it('noise counters follow the element: splitting the samples over calls changes nothing', () => {
    tidy(() => {
      const x = rand([2, 3, 8, 8], { generator: new Generator(2) });
      const k = tensor(Float32Array.from({ length: 3 * 9 }, (_, i) => (i % 9 === 4 ? 1 : 0)), [3, 3, 3]);
      const all = crSamples(x, k, { source: [0, 1, 1], factor: [1, 1, 1], sigma: [0.1, 0.2, 0.3], generator: new Generator(5, 100) });
      const g = new Generator(5, 100);
      const first = crSamples(x, tensor(k.toFloat32Array().slice(0, 9), [1, 3, 3]), { source: [0], factor: [1], sigma: [0.1], generator: g });
      const rest = crSamples(x, tensor(k.toFloat32Array().slice(9), [2, 3, 3]), { source: [1, 1], factor: [1, 1], sigma: [0.2, 0.3], generator: g });
      expect([...first.toFloat32Array(), ...rest.toFloat32Array()]).toEqual([...all.toFloat32Array()]);
      expect(g.offset).toBe(100 + 3 * 3 * 64);
    });
  });

  it('validates every argument before touching memory', () => {
    tidy(() => {
      const x = rand([2, 3, 8, 8]);
      const k = rand([2, 3, 3]);
      const call = (o: Partial<{ x: number; k: number; source: number[]; keep: number[]; factor: number[]; sigma: number[]; seed: number; offset: number }>) =>
        native.crSamples('cpu', o.x ?? x.handle, o.k ?? k.handle, o.source ?? [0, 1], o.keep ?? [0, 0], o.factor ?? [1, 1], o.sigma ?? [0, 0], o.seed ?? 0, o.offset ?? 0, true);
      expect(() => call({ source: [0, 2] })).toThrow(/crSamples: 'source\[1\]' must be in \[0, 1\], got 2/);
      expect(() => call({ factor: [1] })).toThrow(/crSamples: 'factor' has 1 entries for 2 samples/);
      expect(() => call({ sigma: [0, -1] })).toThrow(/crSamples: 'sigma\[1\]' must be >= 0, got -1/);
      expect(() => call({ factor: [1, NaN] })).toThrow(/'factor\[1\]' must be finite/);
      expect(() => call({ keep: [0, -1] })).toThrow(/'keep\[1\]' must be in/);
      expect(() => call({ k: rand([2, 2, 3]).handle })).toThrow(/'kernels' sizes must be odd/);
      expect(() => call({ k: rand([2, 3, 3], { dtype: 'float64' }).handle })).toThrow(/'kernels' is float64 but float32 is expected/);
      expect(() => call({ offset: 2 ** 53 - 10 })).toThrow(/'offset' .* passes 2\^53/);
      expect(() => call({ x: rand([3, 8, 8]).handle })).toThrow(/'x' must be 4-D/);
    });
  });
});

describe('generated samples', () => {
  // White noise around 0.5 (small enough that nothing clips): its Laplacian energy is flat in ω.
  const noise = (n: number, size: number, seed: number) => tidy(() => randn([n, 3, size, size], { generator: new Generator(seed), mean: 0.5, std: 0.03, dtype: 'float64' }));

  it('sharpening raises high-frequency energy by the factor the frequency response predicts', () => {
    tidy(() => {
      const x = noise(2, 96, 1);
      const { images, params } = sharpenedSamples(x, 3, { types: ['pcl', 'unsharp'], factor: [0.5, 3.0], unsharpSigma: [0.5, 1.5] }, new Generator(7));
      expect(images.shape).toEqual([6, 3, 96, 96]);
      expect(params.map((p) => p.source)).toEqual([0, 0, 0, 1, 1, 1]);
      params.forEach((p, m) => {
        const margin = (p.size - 1) / 2 + 1;
        const measured = laplacianEnergy(plane(images, m), 3, 96, 96, margin) / laplacianEnergy(plane(x, p.source), 3, 96, 96, margin);
        const expected = expectedRatio(sharpenResponse(p));
        if (p.factor > 1.2) expect(measured, `sample ${m}`).toBeGreaterThan(1.3);
        expect(Math.abs(measured / expected - 1), `sample ${m} (${p.kind}, f ${p.factor.toFixed(2)}): ${measured.toFixed(3)} vs ${expected.toFixed(3)}`).toBeLessThan(0.04);
      });
    });
  });

  it('blur lowers high-frequency energy by what the Gaussian\'s response predicts; noise has the drawn σ', () => {
    tidy(() => {
      const x = noise(2, 96, 2);
      const { images, params } = blurredSamples(x, 4, { ...DEFAULT_BLUR, noise: [0, 0] }, new Generator(8));
      params.forEach((p, m) => {
        const margin = (p.size - 1) / 2 + 1;
        const measured = laplacianEnergy(plane(images, m), 3, 96, 96, margin) / laplacianEnergy(plane(x, p.source), 3, 96, 96, margin);
        const expected = expectedRatio(kernelResponse(p.kernel, p.size));
        expect(measured).toBeLessThan(1.02);
        // Small σ leave almost nothing; relative error is then measured against at least 0.05.
        expect(Math.abs(measured - expected) / Math.max(expected, 0.05), `sample ${m} (size ${p.size}): ${measured.toFixed(4)} vs ${expected.toFixed(4)}`).toBeLessThan(0.04);
      });
      // Noise: a flat image stays flat under any normalised blur, so what remains is the noise.
      const flat = tidy(() => rand([2, 3, 64, 64], { generator: new Generator(3), low: 0.5, high: 0.5 + 1e-9 }));
      const noisy = blurredSamples(flat, 4, { ...DEFAULT_BLUR, noise: [0.01, 10 / 255] }, new Generator(9));
      noisy.params.forEach((p, m) => {
        const v = plane(noisy.images, m);
        const mu = v.reduce((a, b) => a + b, 0) / v.length;
        const sd = Math.sqrt(v.reduce((a, b) => a + (b - mu) ** 2, 0) / v.length);
        expect(Math.abs(mu - 0.5)).toBeLessThan(3 * p.noise / Math.sqrt(v.length) + 1e-6);
        expect(Math.abs(sd / p.noise - 1), `sample ${m}: σ ${sd} vs ${p.noise}`).toBeLessThan(0.03);
      });
    });
  });

  it('draws docs/model.md §3\'s ranges and is deterministic from the generator', () => {
    const ps = drawBlur(50, 4, DEFAULT_BLUR, new Generator(4));
    expect(new Set(ps.map((p) => p.size))).toEqual(new Set([3, 5, 7, 9, 11]));
    expect(ps.every((p) => p.noise >= 0 && p.noise <= 10 / 255)).toBe(true);
    tidy(() => {
      const x = rand([2, 3, 16, 16], { generator: new Generator(5) });
      const a = blurredSamples(x, 2, DEFAULT_BLUR, new Generator(6, 3)).images.toFloat32Array();
      const b = blurredSamples(x, 2, DEFAULT_BLUR, new Generator(6, 3)).images.toFloat32Array();
      const c = blurredSamples(x, 2, DEFAULT_BLUR, new Generator(6, 4)).images.toFloat32Array();
      expect(b).toEqual(a);
      expect(c).not.toEqual(a);
      expect(a.every((v) => v >= 0 && v <= 1)).toBe(true);
    });
  });

  it('LR upsampled, teacher output and other images of the batch', () => {
    tidy(() => {
      const hr = rand([3, 3, 16, 16], { generator: new Generator(1) });
      const lr = rand([3, 3, 4, 4], { generator: new Generator(2) });
      expect(upsampledLR(lr, [16, 16]).images.shape).toEqual([3, 3, 16, 16]);
      const others = otherImages(hr, 2, new Generator(3));
      expect(others.source).toEqual([0, 0, 1, 1, 2, 2]);
      const rows = others.images.toFloat32Array();
      const hrs = hr.toFloat32Array();
      const size = 3 * 16 * 16;
      const picked = others.source.map((_, r) => [0, 1, 2].find((j) => hrs.slice(j * size, (j + 1) * size).every((v, i) => v === rows[r * size + i])));
      for (let i = 0; i < 3; i++) {
        const mine = picked.slice(2 * i, 2 * i + 2);
        expect(mine).not.toContain(i);
        expect(new Set(mine).size).toBe(2);
      }
      expect(() => otherImages(hr, 3, new Generator(3))).toThrow(/need 1 to 2 other images per image in a batch of 3/);
      const teacher = createModel({ scale: 4, channels: 8, nCpb: 1 }, { seed: 1 });
      const t = teacherSamples(teacher, lr).images;
      expect(t.shape).toEqual([3, 3, 16, 16]);
      expect(t.requiresGrad).toBe(false);
      expect(t.toFloat32Array().every((v) => v >= 0 && v <= 1)).toBe(true);
      teacher.dispose();
    });
  });
});
