import { photoPath } from './helpers/datasets.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { native } from '../bindings/index.js';
import { filter2d, gaussianNoise, poissonNoise } from '../lib/ops/degrade.js';
import { degrade, drawBlurKernel, jpegRoundTrip, parseDegradation, realEsrganPreset, FIRST_PASS_DEFAULTS, type DegradationSpec } from '../lib/data/degrade.js';
import { gaussianKernel } from '../lib/data/kernels.js';
import { bicubicDegrade } from '../lib/data/dataset.js';
import { loadPlanar } from '../lib/data/image-folder.js';
import { crop, type PlanarImage } from '../lib/data/planar.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';

interface FilterCase {
  shape: number[];
  kernelShape: number[];
  x: number[];
  kernel: number[];
  y: number[];
  gy: number[];
  gx: number[];
}
const golden = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'degrade.json'), 'utf8')) as { cases: FilterCase[] };

/** A 3-channel crop of a shared photograph (deterministic natural content). */
async function photo(size = 96, name = 'astronaut.png'): Promise<PlanarImage> {
  const p = await loadPlanar(photoPath(name));
  return crop(p, 100, 150, size, size);
}

/** Mean squared response to a discrete Laplacian (high-frequency energy) of plane data. */
function laplacianEnergy(p: PlanarImage): number {
  const { channels: C, height: H, width: W, data } = p;
  let s = 0;
  let n = 0;
  for (let c = 0; c < C; c++) {
    for (let y = 1; y < H - 1; y++) {
      for (let x = 1; x < W - 1; x++) {
        const i = (c * H + y) * W + x;
        const v = 4 * data[i]! - data[i - 1]! - data[i + 1]! - data[i - W]! - data[i + W]!;
        s += v * v;
        n++;
      }
    }
  }
  return s / n;
}

function stats(a: ArrayLike<number>): { mean: number; std: number } {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i]!;
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - m) ** 2;
  return { mean: m, std: Math.sqrt(v / a.length) };
}

function constant(shape: number[], value: number): mp.Tensor {
  return mp.full(shape, value);
}

describe('filter2d', () => {
  for (const [i, c] of golden.cases.entries()) {
    const label = `case ${i}: x [${c.shape.join(', ')}], kernel [${c.kernelShape.join(', ')}]`;
    it(`${label} matches PyTorch's reflect pad + grouped conv2d (float64 and float32)`, () => {
      mp.tidy(() => {
        const x = mp.tensor(c.x, c.shape, { dtype: 'float64' });
        const k = mp.tensor(c.kernel, c.kernelShape, { dtype: 'float64' });
        expectClose(filter2d(x, k).toFloat64Array(), c.y, 1e-12, label);
        expectClose(filter2d(x.astype('float32'), k.astype('float32')).toFloat32Array(), c.y, 1e-5, `${label} float32`, 1);
        const gx = mp.tensor(native.read(native.filter2dBackward('cpu', mp.tensor(c.gy, c.shape, { dtype: 'float64' }).handle, k.handle)), c.shape, { dtype: 'float64' });
        expectClose(gx.toFloat64Array(), c.gx, 1e-12, `${label} gradient`);
      });
    });
  }

  it('backward matches finite differences (float64)', () => {
    mp.tidy(() => {
      const x = randLeaf([2, 2, 5, 6], 1);
      const k = mp.rand([2, 3, 5], { dtype: 'float64', generator: new mp.Generator(2) });
      gradcheck((a) => filter2d(a, k), [x]);
    });
  });

  it('a one-hot kernel shifts, a kernel of ones sums (reflect-101 borders)', () => {
    mp.tidy(() => {
      const x = mp.tensor(Array.from({ length: 5 }, (_, i) => i + 1), [1, 1, 1, 5]);
      const shift = mp.tensor([0, 0, 1], [1, 1, 3]);
      expect(Array.from(filter2d(x, shift).toFloat32Array())).toEqual([2, 3, 4, 5, 4]);
      const box = mp.tensor([1, 1, 1], [1, 1, 3]);
      expect(Array.from(filter2d(x, box).toFloat32Array())).toEqual([2 + 1 + 2, 6, 9, 12, 4 + 5 + 4]);
    });
  });

  it('validates its arguments, naming them', () => {
    mp.tidy(() => {
      const x = mp.rand([2, 3, 8, 8]);
      expect(() => filter2d(x, mp.rand([2, 4, 3]))).toThrow(/filter2d: 'kernel' sizes must be odd/);
      expect(() => filter2d(x, mp.rand([3, 3, 3]))).toThrow(/filter2d: 'kernel' has 3 kernels for 2 images/);
      expect(() => filter2d(mp.rand([3, 8, 8]), mp.rand([1, 3, 3]))).toThrow(/filter2d: 'x'/);
      expect(() => filter2d(x, mp.rand([1, 3, 3], { dtype: 'float64' }))).toThrow(TypeError);
    });
  });
});

describe('blur kernels', () => {
  it('isotropic and anisotropic Gaussians sum to 1 and have the requested covariance', () => {
    const iso = gaussianKernel({ size: 21, sigmaX: 2 });
    expect(iso.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (let i = 0; i < 21; i++) for (let j = 0; j < 21; j++) expect(iso[i * 21 + j]).toBeCloseTo(iso[j * 21 + i]!, 15);
    const theta = 0.6;
    const k = gaussianKernel({ size: 41, sigmaX: 4, sigmaY: 1.5, theta });
    // Second moments of the kernel ≈ Σ = R diag(σx², σy²) Rᵀ (the grid is wide enough to hold it).
    let sxx = 0;
    let sxy = 0;
    let syy = 0;
    for (let i = 0; i < 41; i++) {
      for (let j = 0; j < 41; j++) {
        const y = i - 20;
        const x = j - 20;
        sxx += k[i * 41 + j]! * x * x;
        sxy += k[i * 41 + j]! * x * y;
        syy += k[i * 41 + j]! * y * y;
      }
    }
    const c = Math.cos(theta);
    const s = Math.sin(theta);
    expect(sxx).toBeCloseTo(c * c * 16 + s * s * 2.25, 2);
    expect(sxy).toBeCloseTo(c * s * (16 - 2.25), 2);
    expect(syy).toBeCloseTo(s * s * 16 + c * c * 2.25, 2);
  });

  it('drawn kernels have odd sizes in the configured range', () => {
    const g = new mp.Generator(3);
    for (let i = 0; i < 50; i++) {
      const { size, kernel } = drawBlurKernel(FIRST_PASS_DEFAULTS.blur!, g);
      expect(size % 2).toBe(1);
      expect(size).toBeGreaterThanOrEqual(7);
      expect(size).toBeLessThanOrEqual(21);
      expect(kernel.length).toBe(size * size);
    }
  });

  it('blurring lowers the high-frequency energy of a photograph', async () => {
    const img = await photo();
    const blurred = mp.tidy(() => {
      const x = mp.tensor(img.data, [1, 3, img.height, img.width]);
      const k = mp.tensor(Float32Array.from(gaussianKernel({ size: 9, sigmaX: 1.5 })), [1, 9, 9]);
      return { ...img, data: filter2d(x, k).toFloat32Array() };
    });
    expect(laplacianEnergy(blurred)).toBeLessThan(0.2 * laplacianEnergy(img));
  });
});

describe('noise', () => {
  it('Gaussian noise has the configured σ, zero mean, and grey noise is shared by the channels', () => {
    mp.tidy(() => {
      const sigma = 12 / 255;
      const x = constant([2, 3, 64, 64], 0.5);
      const y = gaussianNoise(x, [sigma, 2 * sigma], { grey: [false, true], generator: new mp.Generator(5), clip: false });
      const d = y.toFloat32Array();
      const n = 3 * 64 * 64;
      const a = stats(Array.from(d.subarray(0, n), (v) => v - 0.5));
      const b = stats(Array.from(d.subarray(n), (v) => v - 0.5));
      expect(Math.abs(a.mean)).toBeLessThan(3 * sigma / Math.sqrt(n));
      expect(a.std / sigma).toBeGreaterThan(0.97);
      expect(a.std / sigma).toBeLessThan(1.03);
      expect(b.std / (2 * sigma)).toBeGreaterThan(0.95);
      expect(b.std / (2 * sigma)).toBeLessThan(1.05);
      // Colour noise: the channels differ; grey noise: identical on every channel.
      expect(d[0]).not.toBe(d[4096]);
      for (let i = 0; i < 4096; i += 97) {
        expect(d[n + i]).toBe(d[n + 4096 + i]);
        expect(d[n + i]).toBe(d[n + 8192 + i]);
      }
    });
  });

  it('clip keeps the result in [0, 1]', () => {
    mp.tidy(() => {
      const y = gaussianNoise(constant([1, 3, 32, 32], 0.98), 0.2, { generator: new mp.Generator(1) }).toFloat32Array();
      expect(Math.max(...y)).toBeLessThanOrEqual(1);
      expect(Math.min(...y)).toBeGreaterThanOrEqual(0);
      expect(y.filter((v) => v === 1).length).toBeGreaterThan(100);
    });
  });

  it('Poisson noise follows the shot-noise variance q/v·scale² of its 8-bit levels', async () => {
    const img = await photo(128);
    mp.tidy(() => {
      const x = mp.tensor(img.data, [1, 3, 128, 128]);
      const scale = 1.5;
      const y = poissonNoise(x, scale, { generator: new mp.Generator(9), clip: false }).toFloat32Array();
      // Distinct 8-bit values of the image decide v (Real-ESRGAN: 2^ceil(log2(count))).
      const levels = new Set(Array.from(img.data, (v) => Math.round(v * 255)));
      const v = 2 ** Math.ceil(Math.log2(levels.size));
      let num = 0;
      let expected = 0;
      for (let i = 0; i < y.length; i++) {
        const q = Math.round(img.data[i]! * 255) / 255;
        num += (y[i]! - img.data[i]!) ** 2;
        expected += (scale * scale * q) / v;
      }
      expect(num / expected).toBeGreaterThan(0.9);
      expect(num / expected).toBeLessThan(1.1);
    });
  });

  it('grey Poisson noise is the same on every channel', async () => {
    const img = await photo(32);
    mp.tidy(() => {
      const x = mp.tensor(img.data, [1, 3, 32, 32]);
      const y = poissonNoise(x, 2, { grey: true, generator: new mp.Generator(4), clip: false }).toFloat32Array();
      for (let i = 0; i < 1024; i += 13) {
        const n0 = y[i]! - img.data[i]!;
        expect(y[1024 + i]! - img.data[1024 + i]!).toBeCloseTo(n0, 5);
        expect(y[2048 + i]! - img.data[2048 + i]!).toBeCloseTo(n0, 5);
      }
    });
  });

  it('is deterministic for a generator state, advances it by the element count, and ignores the thread count', () => {
    mp.tidy(() => {
      const x = mp.rand([2, 3, 40, 40], { generator: new mp.Generator(1) });
      const g = new mp.Generator(7, 11);
      const a = gaussianNoise(x, 0.1, { generator: g }).toFloat32Array();
      expect(g.offset).toBe(11 + x.numel);
      const p = poissonNoise(x, 1, { generator: new mp.Generator(7, 11) }).toFloat32Array();
      const threads = mp.getNumThreads();
      try {
        mp.setNumThreads(1);
        expect(gaussianNoise(x, 0.1, { generator: new mp.Generator(7, 11) }).toFloat32Array()).toEqual(a);
        expect(poissonNoise(x, 1, { generator: new mp.Generator(7, 11) }).toFloat32Array()).toEqual(p);
      } finally {
        mp.setNumThreads(threads);
      }
      expect(gaussianNoise(x, 0.1, { generator: new mp.Generator(7, 12) }).toFloat32Array()).not.toEqual(a);
    });
  });

  it('Poisson draws have the Poisson mean and variance at small and large λ', () => {
    // Every 8-bit level present (column = level) makes v = 256, so pixels of level L draw
    // Poisson(256·L/255): L = 3 takes the multiplication method, L = 200 the PTRS sampler.
    mp.tidy(() => {
      const W = 256;
      const H = 2048;
      const data = new Float32Array(W * H);
      for (let i = 0; i < data.length; i++) data[i] = (i % W) / 255;
      const y = poissonNoise(mp.tensor(data, [1, 1, H, W]), 1, { generator: new mp.Generator(8), clip: false }).toFloat32Array();
      for (const level of [3, 200]) {
        const q = level / 255;
        const lambda = 256 * q;
        const draws: number[] = [];
        for (let r = 0; r < H; r++) draws.push(Math.round(256 * y[r * W + level]!)); // y = q + P/256 − q
        const d = stats(draws);
        expect(Math.abs(d.mean - lambda)).toBeLessThan(4 * Math.sqrt(lambda / H));
        expect(d.std ** 2 / lambda).toBeGreaterThan(0.9);
        expect(d.std ** 2 / lambda).toBeLessThan(1.1);
        expect(draws.every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
      }
    });
  });

  it('validates its arguments', () => {
    mp.tidy(() => {
      const x = mp.rand([2, 3, 4, 4]);
      expect(() => gaussianNoise(x, [0.1])).toThrow(/expected 2 values/);
      expect(() => native.gaussianNoise('cpu', x.handle, [0.1, -1], [false, false], 0, 0, true)).toThrow(/gaussianNoise: 'sigma\[1\]' must be finite and >= 0/);
      expect(() => poissonNoise(mp.rand([1, 2, 4, 4]), 1, { grey: true })).toThrow(/grey noise needs 1 or 3 channels/);
      expect(() => gaussianNoise(mp.rand([3, 4, 4]), 0.1)).toThrow(/expected x \(N, C, H, W\)/);
    });
  });
});

describe('JPEG through sharp', () => {
  it('changes the image, more at lower quality, and keeps its size', async () => {
    const img = await photo(64);
    const mse = (a: PlanarImage) => a.data.reduce((s, v, i) => s + (v - img.data[i]!) ** 2, 0) / a.data.length;
    const q90 = await jpegRoundTrip(img, 90);
    const q20 = await jpegRoundTrip(img, 20);
    expect([q20.channels, q20.height, q20.width]).toEqual([3, 64, 64]);
    expect(mse(q90)).toBeGreaterThan(0);
    expect(mse(q20)).toBeGreaterThan(2 * mse(q90));
    // Still the same picture: PSNR above 20 dB.
    expect(10 * Math.log10(1 / mse(q20))).toBeGreaterThan(20);
  });
});

describe('the degradation pipeline', () => {
  it('parses defaults, presets and overrides, and rejects bad settings naming the field', () => {
    expect(parseDegradation(undefined, 'd')).toBeNull();
    expect(parseDegradation('bicubic', 'd')).toBeNull();
    const def = parseDegradation({}, 'd')!;
    expect(def.first).toEqual(FIRST_PASS_DEFAULTS);
    expect(def.second).toBeNull();
    expect(def.round).toBe(true);
    expect(parseDegradation('realesrgan', 'd')).toEqual(realEsrganPreset());
    const custom = parseDegradation({ blur: { sigma: [1, 2] }, noise: null, jpeg: { quality: [50, 60] }, second: { prob: 0.5, blur: false } }, 'd')!;
    expect(custom.first.blur!.sigma).toEqual([1, 2]);
    expect(custom.first.blur!.kernelSize).toEqual([7, 21]);
    expect(custom.first.noise).toBeNull();
    expect(custom.first.jpeg!.quality).toEqual([50, 60]);
    expect(custom.second!.prob).toBe(0.5);
    expect(custom.second!.blur).toBeNull();
    expect(custom.second!.noise!.sigma).toEqual([1, 25]);
    expect(() => parseDegradation({ blurr: {} }, 'data.train.degradation')).toThrow(/data.train.degradation: unknown field 'blurr' \(did you mean 'blur'\?\)/);
    expect(() => parseDegradation({ blur: { sigma: [3, 1] } }, 'd')).toThrow(/d.blur.sigma: low 3 is above high 1/);
    expect(() => parseDegradation({ blur: { kernelSize: [8, 8] } }, 'd')).toThrow(/d.blur.kernelSize: \[8, 8\] holds no odd size/);
    expect(() => parseDegradation({ resize: { modes: ['nearest'] } }, 'd')).toThrow(/d.resize.modes\[0\]: must be one of/);
    expect(() => parseDegradation({ jpeg: { quality: [0, 50] } }, 'd')).toThrow(/d.jpeg.quality\[0\]: must be >= 1/);
    expect(() => parseDegradation('gan', 'd')).toThrow(/d: must be "bicubic", "realesrgan" or an object/);
  });

  it('without settings it is MATLAB bicubic downscaling (the same as bicubicDegrade)', async () => {
    const img = await photo(48);
    const lr = await degrade(img, 4, null, new mp.Generator(0));
    expect(lr.data).toEqual(bicubicDegrade(img, 4, new mp.Generator(0)).data);
  });

  const specs: [string, DegradationSpec][] = [
    ['first-order defaults', parseDegradation({}, 'd')!],
    ['the realesrgan preset', realEsrganPreset()],
    ['no JPEG, no rounding', parseDegradation({ jpeg: null, round: false }, 'd')!],
  ];
  for (const [name, spec] of specs) {
    it(`${name}: LR of HR/scale, deterministic for a seed, different across seeds`, async () => {
      const img = await photo(96);
      const a = await degrade(img, 4, spec, new mp.Generator(42));
      expect([a.channels, a.height, a.width]).toEqual([3, 24, 24]);
      const b = await degrade(img, 4, spec, new mp.Generator(42));
      expect(b.data).toEqual(a.data);
      const c = await degrade(img, 4, spec, new mp.Generator(43));
      expect(c.data).not.toEqual(a.data);
      for (const v of a.data) {
        expect(Number.isFinite(v)).toBe(true);
        if (spec.round) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
          expect(Math.abs(v * 255 - Math.round(v * 255))).toBeLessThan(1e-4);
        }
      }
    });
  }

  it('degraded LR images are blurrier and noisier than bicubic ones on average', async () => {
    const img = await photo(96);
    const bic = await degrade(img, 4, null, new mp.Generator(0));
    const spec = parseDegradation({ noise: null, jpeg: null, blur: { sigma: [2, 3] } }, 'd')!;
    let blurred = 0;
    for (let s = 0; s < 5; s++) blurred += laplacianEnergy(await degrade(img, 4, spec, new mp.Generator(s))) / 5;
    expect(blurred).toBeLessThan(laplacianEnergy(bic));
  });
});
