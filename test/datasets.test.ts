import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { createDataset, validateDatasetSpec, type DatasetContext } from '../lib/data/registry.js';
import '../lib/data/image-folder.js';
import { FileDataset } from '../lib/data/file-dataset.js';
import { PatchDataset, bicubicDegrade, type Dataset } from '../lib/data/dataset.js';
import { loadPlanar } from '../lib/data/image-folder.js';
import { crop, orient } from '../lib/data/planar.js';
import { ImageError } from '../lib/io/image.js';
import { DatasetFileError } from '../lib/data/worker-pool.js';
import { buildDRealSR, buildPaired, buildRealSR, makePair, put, PHOTOS, photoPath } from './helpers/datasets.js';

const tmp = mkdtempSync(join(tmpdir(), 'mpfnet-datasets-'));
const opened: FileDataset[] = [];
afterAll(async () => {
  await Promise.all(opened.map((d) => d.close()));
  rmSync(tmp, { recursive: true, force: true });
});

let folder = 0;
const fresh = (name: string) => join(tmp, `${name}-${folder++}`);

function ctx(baseDir: string, o: Partial<DatasetContext> = {}): DatasetContext & { warnings: string[] } {
  const warnings: string[] = [];
  return { scale: 4, patch: 8, augment: true, split: 'train', baseDir, onWarning: (m) => warnings.push(m), warnings, ...o };
}

async function make(spec: Record<string, unknown>, c: DatasetContext): Promise<FileDataset> {
  const ds = await createDataset(validateDatasetSpec(spec, 'data.train'), c);
  expect(ds).toBeInstanceOf(FileDataset);
  opened.push(ds as FileDataset);
  return ds as FileDataset;
}

async function decodeRgb(path: string) {
  return loadPlanar(path);
}

/** Every sample of the dataset is well formed (3 channels, HR = scale × LR, values in [0, 1]). */
async function expectSamples(ds: Dataset & { getAsync(i: number, g: mp.Generator): Promise<mp.Sample> }, patch: number, scale: number) {
  for (let i = 0; i < ds.length; i++) {
    const s = await ds.getAsync(i, new mp.Generator(i));
    expect([s.lr.channels, s.lr.height, s.lr.width]).toEqual([3, patch, patch]);
    expect([s.hr.channels, s.hr.height, s.hr.width]).toEqual([3, scale * patch, scale * patch]);
    for (const v of s.lr.data) expect(v >= 0 && v <= 1).toBe(true);
  }
}

describe("'paired' folders matched by a name pattern", () => {
  let root: string;
  let names: string[];
  beforeAll(async () => {
    root = fresh('paired');
    names = await buildPaired(root, { scale: 4, size: 64 });
  });

  it('finds every pair, names them, and crops aligned LR / HR patches', async () => {
    const ds = await make({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png' }, ctx(tmp, { augment: false }));
    expect(ds.length).toBe(4);
    expect(ds.entries.map((e) => e.name)).toEqual(names);
    await expectSamples(ds, 8, 4);
    // Without augmentation: the centre crop, no draws.
    const lrFull = await decodeRgb(join(root, 'LR', 'img2x4.png'));
    const hrFull = await decodeRgb(join(root, 'HR', 'img2.png'));
    const g = new mp.Generator(77);
    const c = await ds.getAsync(2, g);
    expect(c.lr.data).toEqual(crop(lrFull, 4, 4, 8, 8).data);
    expect(c.hr.data).toEqual(crop(hrFull, 16, 16, 32, 32).data);
    expect(g.offset).toBe(0);
    // With it: the crop the generator picks (top, left, then h-flip, v-flip, transpose).
    const aug = await make({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png' }, ctx(tmp));
    for (let seed = 0; seed < 6; seed++) {
      const s = await aug.getAsync(2, new mp.Generator(seed));
      const r = new mp.Generator(seed);
      const top = r.nextInt(16 - 8 + 1);
      const left = r.nextInt(16 - 8 + 1);
      const flips = { h: r.next() < 0.5, v: r.next() < 0.5, t: r.next() < 0.5 };
      expect(s.lr.data).toEqual(orient(crop(lrFull, top, left, 8, 8), flips).data);
      expect(s.hr.data).toEqual(orient(crop(hrFull, 4 * top, 4 * left, 32, 32), flips).data);
    }
  });

  it('validation (patch null): the whole images, as in the files', async () => {
    const ds = await make({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png' }, ctx(tmp, { patch: null, augment: false, split: 'val' }));
    const s = await ds.getAsync(0, new mp.Generator(0));
    expect(s.lr.data).toEqual((await decodeRgb(join(root, 'LR', 'img0x4.png'))).data);
    expect(s.hr.data).toEqual((await decodeRgb(join(root, 'HR', 'img0.png'))).data);
    expect(s.name).toBe('img0');
  });

  it('get() (synchronous, on a worker thread) gives the same sample as getAsync() and advances the generator alike', async () => {
    const ds = await make({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png' }, ctx(tmp));
    const a = new mp.Generator(5);
    const b = new mp.Generator(5);
    const async = await ds.getAsync(1, a);
    const sync = ds.get(1, b);
    expect(sync.lr.data).toEqual(async.lr.data);
    expect(sync.hr.data).toEqual(async.hr.data);
    expect(b.offset).toBe(a.offset);
  });

  it('relative roots resolve against the config folder; the cache keeps decoded images', async () => {
    const ds = await make({ type: 'paired', root: root.slice(tmp.length + 1), hr: 'HR/{name}.png', lr: 'LR/{name}x4.png', cache: true }, ctx(tmp));
    expect(ds.cachedBytes).toBe(0);
    await ds.getAsync(0, new mp.Generator(0));
    const after = ds.cachedBytes;
    // 64×64 RGB HR + 16×16 RGB LR, 8-bit.
    expect(after).toBe(64 * 64 * 3 + 16 * 16 * 3);
    await ds.getAsync(0, new mp.Generator(1));
    expect(ds.cachedBytes).toBe(after);
  });

  it('rejects bad specs naming the field', () => {
    expect(() => validateDatasetSpec({ type: 'paired', root, hr: 'HR/*.png', lr: 'LR/{name}.png' }, 'data.train')).toThrow(/data.train.hr: must contain \{name\} exactly once/);
    expect(() => validateDatasetSpec({ type: 'paired', root, hr: 'HR/{name}.png' }, 'data.train')).toThrow(/data.train.lr: is required/);
    expect(() => validateDatasetSpec({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}.png', skipbad: true }, 'data.train')).toThrow(/unknown field 'skipbad' \(did you mean 'skipBad'\?\)/);
    expect(() => validateDatasetSpec({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}.png', cache: 'yes' }, 'data.train')).toThrow(/data.train.cache: must be a finite number/);
  });

  it("refuses a dataset whose scale is not the model's", async () => {
    await expect(make({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png', scale: 2 }, ctx(tmp))).rejects.toThrow(/the dataset's scale 2 is not the model's scale 4/);
  });
});

describe("'drealsr' and 'realsr' layouts", () => {
  it("'drealsr' pairs DSC_xxxx_x1.png with DSC_xxxx_x4.png by default, and takes other patterns", async () => {
    const root = fresh('drealsr');
    const names = await buildDRealSR(root, { scale: 4, size: 64 });
    const ds = await make({ type: 'drealsr', root }, ctx(tmp));
    expect(ds.entries.map((e) => e.name)).toEqual(names);
    expect(ds.entries[0]!.hr.endsWith(join('HR', 'DSC_0988_x1.png'))).toBe(true);
    expect(ds.entries[0]!.lr!.endsWith(join('LR', 'DSC_0988_x4.png'))).toBe(true);
    await expectSamples(ds, 8, 4);
    const renamed = await make({ type: 'drealsr', root, hr: 'HR/DSC_{name}_x1.png', lr: 'LR/DSC_{name}_x{scale}.png' }, ctx(tmp));
    expect(renamed.entries.map((e) => e.name)).toEqual(['0988', '0989', '0990']);
  });

  it("'realsr' reads <root>/<Camera>/{Train|Test}/<scale>/, the split following the context", async () => {
    const root = fresh('realsr');
    await buildRealSR(root, { scale: 4, size: 64 });
    const train = await make({ type: 'realsr', root }, ctx(tmp));
    expect(train.entries.map((e) => e.name)).toEqual(['Canon_001', 'Canon_002', 'Nikon_001', 'Nikon_002']);
    expect(train.entries.every((e) => e.hr.includes(join('Train', '4')) && e.lr!.endsWith('_LR4.png'))).toBe(true);
    await expectSamples(train, 8, 4);
    const val = await make({ type: 'realsr', root }, ctx(tmp, { split: 'val', patch: null, augment: false }));
    expect(val.entries.every((e) => e.hr.includes(join('Test', '4')))).toBe(true);
    const s = await val.getAsync(0, new mp.Generator(0));
    expect([s.hr.height, s.lr.height]).toEqual([64, 16]);
    const canon = await make({ type: 'realsr', root, cameras: ['Canon'], split: 'Test' }, ctx(tmp));
    expect(canon.entries.map((e) => e.name)).toEqual(['Canon_001', 'Canon_002']);
    // A single camera's folder works as the root too.
    const one = await make({ type: 'realsr', root: join(root, 'Nikon') }, ctx(tmp));
    expect(one.length).toBe(2);
    await expect(make({ type: 'realsr', root: join(root, 'Canon', 'Train') }, ctx(tmp))).rejects.toThrow(/realsr: found neither .*Train.4/);
  });

  it("'realsr' with upsampledLR: LR stored at the HR size is downscaled by the scale", async () => {
    const root = fresh('realsr-v2');
    const p = await makePair('astronaut.png', 64, 4);
    const big = await sharp(p.lr).resize(64, 64, { kernel: 'cubic' }).png().toBuffer();
    put(join(root, 'Train', '4', 'Canon_001_HR.png'), p.hr);
    put(join(root, 'Train', '4', 'Canon_001_LR4.png'), big);
    await expect(make({ type: 'realsr', root }, ctx(tmp))).rejects.toThrow(/do not pair/);
    const ds = await make({ type: 'realsr', root, upsampledLR: true }, ctx(tmp, { patch: null, augment: false }));
    const s = await ds.getAsync(0, new mp.Generator(0));
    expect([s.lr.height, s.lr.width, s.hr.height]).toEqual([16, 16, 64]);
  });
});

describe('bad files', () => {
  it('a missing LR partner is an error naming the HR file and the partner', async () => {
    const root = fresh('missing-lr');
    await buildPaired(root, { scale: 4, size: 64 });
    unlinkSync(join(root, 'LR', 'img1x4.png'));
    const spec = { type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png' };
    await expect(make(spec, ctx(tmp))).rejects.toThrow(new RegExp(`HR .*img1\\.png has no LR partner: .*img1x4\\.png does not exist`));
    await expect(make(spec, ctx(tmp))).rejects.toBeInstanceOf(DatasetFileError);
  });

  it('a missing HR partner is an error naming the LR file', async () => {
    const root = fresh('missing-hr');
    await buildPaired(root, { scale: 4, size: 64 });
    unlinkSync(join(root, 'HR', 'img3.png'));
    await expect(make({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png' }, ctx(tmp))).rejects.toThrow(/LR .*img3x4\.png has no HR partner/);
  });

  it('sizes that do not pair (HR not scale × LR) are an error naming both files', async () => {
    const root = fresh('mismatch');
    await buildPaired(root, { scale: 4, size: 64 });
    put(join(root, 'LR', 'img2x4.png'), await sharp(join(root, 'LR', 'img2x4.png')).resize(15, 16).png().toBuffer());
    await expect(make({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png' }, ctx(tmp))).rejects.toThrow(
      /HR .*img2\.png \(64×64\) and LR .*img2x4\.png \(15×16\) do not pair: HR must be 4 × LR = 60×64/,
    );
  });

  it('an image too small for the patch is an error naming it', async () => {
    const root = fresh('small');
    await buildPaired(root, { scale: 4, size: 64 });
    await expect(make({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png' }, ctx(tmp, { patch: 20 }))).rejects.toThrow(/img0x4\.png is too small for 20×20 LR patches/);
  });

  it('an unreadable file is an ImageError naming it', async () => {
    const root = fresh('garbage');
    await buildPaired(root, { scale: 4, size: 64 });
    put(join(root, 'HR', 'img1.png'), 'this is not a PNG');
    const err = await make({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png' }, ctx(tmp)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect((err as ImageError).path).toBe(join(root, 'HR', 'img1.png'));
    expect((err as Error).message).toMatch(/img1\.png/);
  });

  it('with skipBad, one bad image among good ones is skipped with one warning', async () => {
    const root = fresh('skip');
    await buildPaired(root, { scale: 4, size: 64 });
    put(join(root, 'HR', 'img1.png'), 'this is not a PNG');
    unlinkSync(join(root, 'LR', 'img3x4.png'));
    const c = ctx(tmp);
    const ds = await make({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png', skipBad: true }, c);
    expect(ds.entries.map((e) => e.name)).toEqual(['img0', 'img2']);
    expect(c.warnings).toHaveLength(2);
    expect(c.warnings[0]).toMatch(/skipping .*img3\.png: HR .*img3\.png has no LR partner/);
    expect(c.warnings[1]).toMatch(/skipping .*img1\.png: cannot read image/);
  });

  it('a truncated file (readable header) fails when decoded, naming it; skipBad replaces it and warns once', async () => {
    const root = fresh('truncated');
    await buildPaired(root, { scale: 4, size: 64 });
    const hr = join(root, 'HR', 'img1.png');
    const bytes = readFileSync(hr);
    put(hr, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const strict = await make({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png' }, ctx(tmp));
    expect(strict.length).toBe(4);
    await expect(strict.getAsync(1, new mp.Generator(0))).rejects.toThrow(/cannot read image '.*img1\.png': the file is truncated/);
    expect(() => strict.get(1, new mp.Generator(0))).toThrow(/img1\.png/);
    const c = ctx(tmp);
    const lenient = await make({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png', skipBad: true }, c);
    const a = await lenient.getAsync(1, new mp.Generator(3));
    const b = await lenient.getAsync(1, new mp.Generator(3));
    // Replaced by the next entry, drawn with the same generator.
    const next = await lenient.getAsync(2, new mp.Generator(3));
    expect(a.name).toBe('img2');
    expect(a.lr.data).toEqual(next.lr.data);
    expect(b.lr.data).toEqual(a.lr.data);
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toMatch(/skipping .*img1\.png/);
    // The same through the synchronous worker path: the worker's warning reaches this thread, once.
    const s = lenient.get(1, new mp.Generator(3));
    expect(s.name).toBe('img2');
    expect(c.warnings).toHaveLength(1);
  });

  it('without onWarning, skipped files go to process warnings', async () => {
    const root = fresh('emit');
    await buildPaired(root, { scale: 4, size: 64 });
    put(join(root, 'HR', 'img0.png'), 'garbage');
    const seen: Error[] = [];
    const listener = (w: Error) => seen.push(w);
    process.on('warning', listener);
    try {
      const ds = await make({ type: 'paired', root, hr: 'HR/{name}.png', lr: 'LR/{name}x4.png', skipBad: true }, { scale: 4, patch: 8, augment: true, split: 'train', baseDir: tmp });
      expect(ds.length).toBe(3);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('warning', listener);
    }
    const ours = seen.filter((w) => w.name === 'MpfnetDataWarning');
    expect(ours).toHaveLength(1);
    expect(ours[0]!.message).toMatch(/img0\.png/);
  });
});

describe("'images' (HR only, degraded on the fly)", () => {
  let dir: string;
  beforeAll(() => {
    dir = fresh('hr-only');
    for (const p of PHOTOS.slice(0, 3)) copyFileSync(photoPath(p), put(join(dir, p), ''));
  });

  it('without degradation settings, samples equal PatchDataset + bicubicDegrade (the older in-memory path)', async () => {
    const ds = await make({ type: 'images', dir }, ctx(tmp, { patch: 12 }));
    const legacy = await createDataset(validateDatasetSpec({ type: 'images', dir }, 'd'), ctx(tmp, { patch: 12, degrade: bicubicDegrade }));
    expect(legacy).toBeInstanceOf(PatchDataset);
    for (let i = 0; i < 3; i++) {
      const a = await ds.getAsync(i, new mp.Generator(10 + i));
      const b = legacy.get(i, new mp.Generator(10 + i));
      expect(a.lr.data).toEqual(b.lr.data);
      expect(a.hr.data).toEqual(b.hr.data);
    }
  });

  it('with degradation settings, LR patches are degraded (deterministically per generator)', async () => {
    const ds = await make({ type: 'images', dir, degradation: { jpeg: { quality: [40, 60] } } }, ctx(tmp, { patch: 12 }));
    const plain = await make({ type: 'images', dir }, ctx(tmp, { patch: 12 }));
    const a = await ds.getAsync(0, new mp.Generator(1));
    const b = await ds.getAsync(0, new mp.Generator(1));
    expect([a.lr.height, a.hr.height]).toEqual([12, 48]);
    expect(a.lr.data).toEqual(b.lr.data);
    const p = await plain.getAsync(0, new mp.Generator(1));
    // Same crop (the crop and flips are drawn first), different LR.
    expect(a.hr.data).toEqual(p.hr.data);
    expect(a.lr.data).not.toEqual(p.lr.data);
  });

  it('validates the degradation settings with the dataset', () => {
    expect(() => validateDatasetSpec({ type: 'images', dir, degradation: { noise: { sigma: [1] } } }, 'data.train')).toThrow(/data.train.degradation.noise.sigma: must be a range/);
    expect(() => validateDatasetSpec({ type: 'images', dir, degradation: 'realesrgan' }, 'data.train')).not.toThrow();
  });
});
