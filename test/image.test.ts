import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { writeFileAtomic, writeFileAtomicSync } from '../lib/io/atomic-write.js';
import {
  ImageError,
  encodeImage,
  float32ToImage,
  imageToFloat32,
  imageToTensor,
  probeImage,
  readImage,
  tensorToImage,
  writeImage,
  type ChannelCount,
  type Image,
} from '../lib/io/image.js';

const dir = mkdtempSync(join(tmpdir(), 'mpfnet-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const GT = join(__dirname, 'fixtures', 'metrics', 'comic_gt.png');

/** A deterministic image with every sample different from its neighbours. */
function pattern(width: number, height: number, channels: ChannelCount, bitDepth: 8 | 16): Image {
  const n = width * height * channels;
  const max = bitDepth === 16 ? 65536 : 256;
  const data = bitDepth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = s % max;
  }
  return { data, width, height, channels, bitDepth, format: 'raw', hasAlpha: channels === 2 || channels === 4 };
}

describe('image I/O', () => {
  for (const fmt of ['png', 'tiff'] as const) {
    for (const bitDepth of [8, 16] as const) {
      for (const channels of [1, 2, 3, 4] as const) {
        it(`${fmt} ${bitDepth}-bit ${channels}-channel round trip is exact`, async () => {
          const img = pattern(7, 5, channels, bitDepth);
          const buf = await encodeImage(img, { format: fmt });
          const back = await readImage(buf);
          expect(back.format).toBe(fmt);
          expect([back.width, back.height, back.channels, back.bitDepth, back.hasAlpha]).toEqual([7, 5, channels, bitDepth, channels % 2 === 0]);
          expect(Array.from(back.data)).toEqual(Array.from(img.data));
        });
      }
    }
  }

  it('lossless WebP round trip is exact; JPEG is close', async () => {
    const img = pattern(8, 8, 3, 8);
    const webp = await readImage(await encodeImage(img, { format: 'webp', lossless: true }));
    expect(webp.format).toBe('webp');
    expect(Array.from(webp.data)).toEqual(Array.from(img.data));
    const flat: Image = { ...img, data: new Uint8Array(8 * 8 * 3).fill(200) };
    const jpeg = await readImage(await encodeImage(flat, { format: 'jpeg', quality: 100 }));
    expect(jpeg.format).toBe('jpeg');
    expect(Math.max(...Array.from(jpeg.data, (v) => Math.abs(v - 200)))).toBeLessThanOrEqual(1);
  });

  it('reads the metric fixtures as 8-bit RGB', async () => {
    const img = await readImage(GT);
    expect([img.width, img.height, img.channels, img.bitDepth, img.format]).toEqual([240, 360, 3, 8, 'png']);
    const p = await probeImage(GT);
    expect([p.width, p.height, p.channels]).toEqual([240, 360, 3]);
  });

  it('applies the EXIF orientation (and can leave it)', async () => {
    // 16×8, left half black, right half white, stored with orientation 6 (display rotated 90° clockwise).
    const w = 16, h = 8;
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.fill(x < w / 2 ? 0 : 255, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const jpg = await sharp(data, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const img = await readImage(jpg);
    expect([img.width, img.height]).toEqual([8, 16]);
    // The left edge became the top edge.
    expect(img.data[(2 * 8 + 4) * 3]!).toBeLessThan(30);
    expect(img.data[(13 * 8 + 4) * 3]!).toBeGreaterThan(225);
    const raw = await readImage(jpg, { autoOrient: false });
    expect([raw.width, raw.height]).toEqual([16, 8]);
    expect((await probeImage(jpg)).width).toBe(8);
  });

  it('names the file when it is missing, truncated or corrupt', async () => {
    const bytes = readFileSync(GT);
    const truncated = join(dir, 'truncated.png');
    writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
    const corrupt = join(dir, 'corrupt.png');
    writeFileSync(corrupt, Buffer.concat([bytes.subarray(0, 8), Buffer.from('definitely not the rest of a png file')]));
    const text = join(dir, 'notes.png');
    writeFileSync(text, 'just some text');
    const cases: [string, string][] = [
      [truncated, 'TRUNCATED'],
      [corrupt, 'CORRUPT'],
      [text, 'UNSUPPORTED'],
      [join(dir, 'missing.png'), 'NOT_FOUND'],
    ];
    for (const [path, code] of cases) {
      const err = await readImage(path).then(() => null, (e: unknown) => e);
      expect(err, path).toBeInstanceOf(ImageError);
      expect(err).toBeInstanceOf(TypeError);
      expect((err as ImageError).path).toBe(path);
      expect((err as ImageError).code, path).toBe(code);
      expect((err as Error).message).toContain(path);
    }
    await expect(readImage(Buffer.from('garbage bytes'), { name: 'upload.jpg' })).rejects.toThrow(/upload\.jpg/);
  });

  it('reports a decoder failure on one line: the file and the first cause (libvips repeats its warnings)', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 10, g: 200, b: 30 } } }).jpeg().toBuffer();
    const header = join(dir, 'header-only.jpg');
    writeFileSync(header, jpeg.subarray(0, 100));
    const err = await readImage(header).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ImageError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toBe(`cannot read image '${header}': the file is truncated or damaged (Input file has corrupt header: VipsJpeg: premature end of JPEG image)`);
    expect((err as ImageError).code).toBe('TRUNCATED');
  });

  it('refuses images above the pixel limit', async () => {
    const err = await readImage(GT, { limitPixels: 240 * 360 - 1 }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect((err as ImageError).code).toBe('TOO_LARGE');
    expect((err as Error).message).toMatch(/comic_gt\.png.*86400 pixels exceeds the pixel limit 86399/);
    expect((await readImage(GT, { limitPixels: 240 * 360 })).width).toBe(240);
    expect((await readImage(GT, { limitPixels: false })).width).toBe(240);
    await expect(readImage(GT, { limitPixels: -1 })).rejects.toThrow(RangeError);
  });
});

describe('image <-> tensor', () => {
  it('imageToTensor gives NCHW in [0, 1]; rgb replicates grey and drops alpha', () => {
    mp.tidy(() => {
      const ga = pattern(3, 2, 2, 8);
      const t = imageToTensor(ga);
      expect(t.shape).toEqual([1, 2, 2, 3]);
      const v = t.toFloat32Array();
      expect(v[0]).toBeCloseTo(ga.data[0]! / 255, 6);
      expect(v[6]).toBeCloseTo(ga.data[1]! / 255, 6); // alpha plane
      const rgb = imageToTensor(ga, { rgb: true, dtype: 'float64' });
      expect(rgb.shape).toEqual([1, 3, 2, 3]);
      const r = rgb.toFloat64Array();
      for (let i = 0; i < 6; i++) {
        expect(r[i]).toBe(ga.data[2 * i]! / 255);
        expect(r[6 + i]).toBe(r[i]);
        expect(r[12 + i]).toBe(r[i]);
      }
      const rgba16 = pattern(2, 2, 4, 16);
      const t16 = imageToTensor(rgba16, { rgb: true, raw: true });
      expect(t16.toArray().slice(0, 4)).toEqual([0, 1, 2, 3].map((i) => rgba16.data[4 * i]!));
      expect(imageToFloat32(rgba16).data[4]).toBeCloseTo(rgba16.data[1]! / 65535, 6);
    });
  });

  it('tensorToImage clamps, rounds half away from zero and maps NaN to 0', () => {
    mp.tidy(() => {
      const t = mp.tensor([-0.5, 0, 0.5 / 255, 1.49 / 255, 2.5 / 255, 1, 1.7, NaN], [1, 1, 2, 4], { dtype: 'float64' });
      const img = tensorToImage(t);
      expect(Array.from(img.data)).toEqual([0, 0, 1, 1, 3, 255, 255, 0]);
      const img16 = tensorToImage(t, { bitDepth: 16 });
      expect(img16.data).toBeInstanceOf(Uint16Array);
      expect(img16.data[5]).toBe(65535);
      expect(Array.from(float32ToImage([254.5, 3.2], 1, 1, 2, { raw: true }).data)).toEqual([255, 3]);
      expect(() => tensorToImage(mp.zeros([2, 3, 4, 4]))).toThrow(RangeError);
      expect(() => tensorToImage(mp.zeros([1, 5, 4, 4]))).toThrow(/1 to 4 channels/);
    });
  });

  it('a tensor survives writeImage/readImage (8 and 16 bits)', async () => {
    const img = pattern(9, 4, 3, 16);
    const t = imageToTensor(img, { dtype: 'float64' });
    const p8 = join(dir, 'rt8.png');
    const p16 = join(dir, 'rt16.tif');
    await writeImage(p8, t);
    await writeImage(p16, t, { bitDepth: 16 });
    const back16 = await readImage(p16);
    expect(Array.from(back16.data)).toEqual(Array.from(img.data));
    const back8 = await readImage(p8);
    expect(back8.bitDepth).toBe(8);
    expect(Array.from(back8.data)).toEqual(Array.from(img.data, (v) => Math.floor((v / 65535) * 255 + 0.5)));
    t.dispose();
  });
});

describe('writing', () => {
  it('writes atomically and leaves no temporary files', async () => {
    const p = join(dir, 'atomic', 'out.png');
    await expect(writeImage(p, pattern(4, 4, 3, 8))).rejects.toThrow(/cannot write image .*atomic.*out\.png/);
    const q = join(dir, 'out.png');
    writeFileSync(q, 'old contents');
    await writeImage(q, pattern(4, 4, 3, 8));
    expect((await readImage(q)).width).toBe(4);
    await writeFileAtomic(join(dir, 'a.txt'), 'one');
    writeFileAtomicSync(join(dir, 'a.txt'), 'two');
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('two');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(dir, 'atomic'))).toBe(false);
  });

  it('rejects formats that cannot hold the data', async () => {
    await expect(writeImage(join(dir, 'x.bmp'), pattern(2, 2, 3, 8))).rejects.toThrow(/cannot tell the format of '.*x\.bmp'/);
    await expect(writeImage(join(dir, 'x.jpg'), pattern(2, 2, 4, 8))).rejects.toThrow(/JPEG cannot store an alpha/);
    await expect(writeImage(join(dir, 'x.jpg'), pattern(2, 2, 3, 8), { bitDepth: 16 })).rejects.toThrow(RangeError);
    await expect(writeImage(join(dir, 'x.jpg'), pattern(2, 2, 3, 8), { quality: 0 })).rejects.toThrow(/quality/);
    // A 16-bit image written as JPEG is brought down to 8 bits.
    await writeImage(join(dir, 'deep.jpg'), pattern(2, 2, 3, 16));
    expect((await readImage(join(dir, 'deep.jpg'))).bitDepth).toBe(8);
  });
});
