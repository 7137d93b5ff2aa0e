import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { native } from '../bindings/index.js';
import { imageToTensor, readImage, tensorToImage, type Image } from '../lib/io/image.js';
import { imresize } from '../lib/ops/resize.js';
import { cropBorder, niqe, psnr, rgbToY, ssim, ssimPerChannel, toPlanes } from '../lib/metrics/index.js';
import { estimateAggd } from '../lib/metrics/niqe.js';
import { gamma, pinvSymmetric } from '../lib/metrics/special.js';

const FIX = join(__dirname, 'fixtures', 'metrics');
const reference = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'metrics.json'), 'utf8')) as {
  images: Record<string, { psnr_rgb: number; ssim_rgb: number; psnr_y: number; ssim_y: number; niqe_gt: number; niqe_sr: number; niqe_gt_torch32: number; niqe_sr_torch32: number; sr_sum: number }>;
  niqe_photos: Record<string, { niqe: number; niqe_torch32: number }>;
};

// docs/model.md §4: BasicSR's published values (crop 4, MATLAB bicubic ×4 rounded to uint8).
const PUBLISHED = {
  baboon: { psnr_rgb: 20.41971, ssim_rgb: 0.391853, psnr_y: 22.441898, ssim_y: 0.453097 },
  comic: { psnr_rgb: 20.239912, ssim_rgb: 0.567738, psnr_y: 21.720398, ssim_y: 0.585511 },
};

/** MATLAB's imresize(lq, 4) of a uint8 image: float64 on the 0..255 scale, rounded to uint8. */
async function bicubicX4(name: string): Promise<Image> {
  const lq = await readImage(join(FIX, `${name}_lq_x4.png`));
  return mp.tidy(() => tensorToImage(imresize(imageToTensor(lq, { dtype: 'float64', raw: true }), { scale: 4 }), { raw: true }));
}

describe('published check values (docs/model.md §4)', () => {
  for (const name of ['baboon', 'comic'] as const) {
    it(`${name}: bicubic ×4 PSNR / SSIM, RGB and Y, crop 4`, async () => {
      const sr = await bicubicX4(name);
      const gt = await readImage(join(FIX, `${name}_gt.png`));
      expect([sr.width, sr.height]).toEqual([gt.width, gt.height]);
      expect([...sr.data].reduce((s, v) => s + v, 0)).toBe(reference.images[name]!.sr_sum);
      const got = {
        psnr_rgb: psnr(sr, gt, { crop: 4 }),
        ssim_rgb: ssim(sr, gt, { crop: 4 }),
        psnr_y: psnr(sr, gt, { crop: 4, y: true }),
        ssim_y: ssim(sr, gt, { crop: 4, y: true }),
      };
      const pub = PUBLISHED[name];
      expect(Math.abs(got.psnr_rgb - pub.psnr_rgb)).toBeLessThan(1e-4);
      expect(Math.abs(got.psnr_y - pub.psnr_y)).toBeLessThan(1e-4);
      expect(Math.abs(got.ssim_rgb - pub.ssim_rgb)).toBeLessThan(1e-5);
      expect(Math.abs(got.ssim_y - pub.ssim_y)).toBeLessThan(1e-5);
      // The independent numpy reference (test/fixtures/gen_metrics.py) agrees to float64 noise.
      for (const k of Object.keys(got) as (keyof typeof got)[]) expect(Math.abs(got[k] - reference.images[name]![k]), k).toBeLessThan(1e-10);
    });
  }

  it('NIQE of baboon_gt.png is the published value within 1e-4 (MATLAB 5.72957, BasicSR 5.72958) and matches the numpy reference', async () => {
    const gt = await readImage(join(FIX, 'baboon_gt.png'));
    const v = niqe(gt);
    expect(Math.abs(v - 5.72957)).toBeLessThan(1e-4);
    expect(Math.abs(v - 5.72958)).toBeLessThan(1e-4);
    expect(Math.abs(v - reference.images.baboon!.niqe_gt)).toBeLessThan(1e-9);
  });

  it('NIQE of the other fixtures matches the numpy reference (same steps), and a float32 halving within the documented bound', async () => {
    const photo = async (name: string) => readImage(join(__dirname, 'fixtures', 'images', `${name}.png`));
    const cases: [string, Image, number, number][] = [
      ['comic gt', await readImage(join(FIX, 'comic_gt.png')), reference.images.comic!.niqe_gt, reference.images.comic!.niqe_gt_torch32],
      ['baboon sr', await bicubicX4('baboon'), reference.images.baboon!.niqe_sr, reference.images.baboon!.niqe_sr_torch32],
      ['comic sr', await bicubicX4('comic'), reference.images.comic!.niqe_sr, reference.images.comic!.niqe_sr_torch32],
    ];
    for (const [name, r] of Object.entries(reference.niqe_photos)) cases.push([name, await photo(name), r.niqe, r.niqe_torch32]);
    for (const [name, img, same, torch32] of cases) {
      const v = niqe(img);
      expect(Math.abs(v - same), name).toBeLessThan(1e-9);
      // BasicSR halves the image in torch float32; summation order alone moves NIQE this much
      // (measured up to 2.0e-3, on brick; 3.4e-4 on astronaut): the bound lib/metrics/niqe.ts documents.
      expect(Math.abs(v - torch32), name).toBeLessThan(2.5e-3);
    }
  });
});

function rgbImage(w: number, h: number, f: (x: number, y: number, c: number) => number): Image {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { data, width: w, height: h, channels: 3, bitDepth: 8, format: 'raw', hasAlpha: false };
}
const noise = (x: number, y: number, c: number) => (x * 37 + y * 101 + c * 59 + ((x * y) % 13) * 7) % 256;

describe('psnr / ssim conventions', () => {
  it('PSNR of a constant error of 1 is 10·log10(255²); identical images give Infinity', () => {
    const a = rgbImage(20, 16, (x, y, c) => (noise(x, y, c) % 250) + 2);
    const b = rgbImage(20, 16, (x, y, c) => (noise(x, y, c) % 250) + 3);
    expect(psnr(a, b)).toBeCloseTo(10 * Math.log10(255 * 255), 12);
    expect(psnr(a, a)).toBe(Infinity);
    expect(ssim(a, a)).toBeCloseTo(1, 14);
    expect(ssim(a, b, { crop: 2 })).toBeCloseTo(ssim(b, a, { crop: 2 }), 14);
  });

  it('measures tensors as uint8 after clamping, ×255 and rounding', () => {
    mp.tidy(() => {
      const img = rgbImage(16, 12, noise);
      const t = imageToTensor(img, { dtype: 'float64' });
      // A perturbation below half a grey level disappears in the rounding.
      const shifted = mp.addScalar(t, 0.4 / 255);
      expect(psnr(shifted, img)).toBe(Infinity);
      const over = mp.addScalar(t, 2);
      expect(toPlanes(over).data.every((v) => v === 255)).toBe(true);
    });
  });

  it('Y channel: BT.601 studio swing, grey passes through, alpha is not measured', () => {
    const y = rgbToY(toPlanes(rgbImage(2, 1, (x) => (x ? 255 : 0))));
    expect(Array.from(y.data)).toEqual([16, 16 + (65.481 + 128.553 + 24.966)]);
    const grey: Image = { data: new Uint8Array([10, 20, 30]), width: 3, height: 1, channels: 1, bitDepth: 8, format: 'raw', hasAlpha: false };
    expect(Array.from(rgbToY(toPlanes(grey)).data)).toEqual([10, 20, 30]);
    const rgba: Image = { data: new Uint8Array([1, 2, 3, 99, 4, 5, 6, 0]), width: 2, height: 1, channels: 4, bitDepth: 8, format: 'raw', hasAlpha: true };
    expect(Array.from(toPlanes(rgba).data)).toEqual([1, 4, 2, 5, 3, 6]);
    const deep: Image = { data: new Uint16Array([65535, 257 * 7 + 128]), width: 2, height: 1, channels: 1, bitDepth: 16, format: 'raw', hasAlpha: false };
    expect(Array.from(toPlanes(deep).data)).toEqual([255, 7]);
  });

  it('crop removes the border from every side', () => {
    const p = cropBorder(toPlanes(rgbImage(10, 8, noise)), 2);
    expect([p.width, p.height, p.channels]).toEqual([6, 4, 3]);
    expect(p.data[0]).toBe(noise(2, 2, 0));
    expect(() => cropBorder(p, 2)).toThrow(/leaves nothing/);
    expect(() => cropBorder(p, -1)).toThrow(RangeError);
  });

  it('rejects mismatched sizes and images smaller than the SSIM window', () => {
    const a = rgbImage(20, 16, noise);
    expect(() => psnr(a, rgbImage(20, 15, noise))).toThrow(/differ in size/);
    expect(() => ssim(rgbImage(10, 30, noise), rgbImage(10, 30, noise))).toThrow(/at least 11×11/);
    const h = native.create('cpu', 'float32', [1, 12, 12], null);
    try {
      expect(() => native.ssimForward('cpu', h, h)).toThrow(/ssim: 'x' is float32 but float64 is expected/);
    } finally {
      native.dispose(h);
    }
  });

  it('SSIM per channel does not depend on the thread count', () => {
    const a = toPlanes(rgbImage(300, 200, noise));
    const b = toPlanes(rgbImage(300, 200, (x, y, c) => noise(x + 1, y, c)));
    const n = mp.getNumThreads();
    const many = ssimPerChannel(a, b);
    mp.setNumThreads(1);
    try {
      expect(ssimPerChannel(a, b)).toEqual(many);
    } finally {
      mp.setNumThreads(n);
    }
  });
});

describe('NIQE building blocks', () => {
  it('gamma is accurate to ~1e-14', () => {
    expect(gamma(0.5)).toBeCloseTo(Math.sqrt(Math.PI), 14);
    expect(gamma(5)).toBeCloseTo(24, 12);
    expect(gamma(1.5) / (Math.sqrt(Math.PI) / 2)).toBeCloseTo(1, 14);
    expect(gamma(0.1) / 9.513507698668732).toBeCloseTo(1, 14);
    expect(gamma(15) / 87178291200).toBeCloseTo(1, 13);
  });

  it('pinvSymmetric inverts SPD matrices and satisfies A·A⁺·A = A for singular ones', () => {
    const n = 6;
    const g = new mp.Generator(3);
    const r = mp.randn([n, n], { dtype: 'float64', generator: g }).toFloat64Array();
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j]! += r[i * n + k]! * r[j * n + k]!;
    const inv = pinvSymmetric(a, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k]! * inv[k * n + j]!;
        expect(s).toBeCloseTo(i === j ? 1 : 0, 9);
      }
    const v = [1, 2, 3];
    const rank1 = v.flatMap((x) => v.map((y) => x * y));
    const p = pinvSymmetric(rank1, 3);
    // For A = v vᵀ, A⁺ = A / |v|⁴.
    for (let i = 0; i < 9; i++) expect(p[i]).toBeCloseTo(rank1[i]! / 196, 12);
  });

  it('the AGGD fit recovers a Gaussian: α ≈ 2, β ≈ σ·√2', () => {
    const x = mp.randn([200000], { dtype: 'float64', generator: new mp.Generator(9), std: 0.7 }).toFloat64Array();
    const [a, bl, br] = estimateAggd(x);
    expect(a).toBeGreaterThan(1.95);
    expect(a).toBeLessThan(2.05);
    expect(bl).toBeCloseTo(0.7 * Math.SQRT2, 1);
    expect(br).toBeCloseTo(0.7 * Math.SQRT2, 1);
  });

  it('NIQE needs two 96×96 blocks', async () => {
    expect(() => niqe(rgbImage(150, 96, noise))).toThrow(/at least two 96×96 blocks/);
  });
});

describe('memory', () => {
  it('metrics, imresize and NIQE leave no live tensors behind', async () => {
    const img = await readImage(join(FIX, 'comic_gt.png'));
    const t = imageToTensor(img);
    const before = mp.memory().tensors;
    psnr(t, img, { crop: 2, y: true });
    ssim(t, img);
    niqe(t);
    mp.tidy(() => {
      imresize(t, { scale: 0.5 });
    });
    expect(mp.memory().tensors).toBe(before);
    t.dispose();
  });
});
