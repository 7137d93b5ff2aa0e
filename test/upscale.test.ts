// upscale(): tiling plan and blending weights, the streaming MATLAB resize, the tape-off inference
// forward, and the whole path through the worker: tiled vs untiled (the acceptance: ≥ 45 dB for
// the default architecture), alpha / grey / 16-bit / EXIF / outscale, progress and cancellation.
import { photoPath } from './helpers/datasets.js';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { noGrad, tidy } from '../lib/autograd/scope.js';
import { AbortError, DEFAULT_TILE, upscale, Upscaler, type RawPixels } from '../lib/infer/upscale.js';
import { StreamingResizer, type RowSink } from '../lib/infer/stream-resize.js';
import { axisWeights, planAxis, planTiles } from '../lib/infer/tiles.js';
import { encodeImage, ImageError, imageToTensor, readImage, tensorToImage, type Image } from '../lib/io/image.js';
import { memory } from '../lib/memory.js';
import { psnr } from '../lib/metrics/psnr.js';
import { createModel, type MPFNet } from '../lib/models/mpfnet/mpfnet.js';
import { rand, tensor } from '../lib/ops/creation.js';
import { imresize } from '../lib/ops/resize.js';
import { Generator } from '../lib/random.js';

/** A w×h crop of a bundled photo as raw 8-bit RGB. */
async function photo(w: number, h: number, name = 'astronaut.png', left = 150, top = 100): Promise<RawPixels & { data: Uint8Array }> {
  const img = await readImage(photoPath(name));
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = img.data[((top + y) * img.width + left + x) * img.channels + (img.channels >= 3 ? c : 0)]!;
  return { data, width: w, height: h, channels: 3 };
}

function small(scale: 2 | 3 | 4 = 2, seed = 3): MPFNet {
  return createModel({ scale, channels: 8, nCpb: 1 }, { seed });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Channel k of an interleaved image as a plain array. */
function channel(img: Image, k: number): number[] {
  const out: number[] = [];
  for (let i = k; i < img.data.length; i += img.channels) out.push(img.data[i]!);
  return out;
}

describe('tile plan', () => {
  it('windows are all the same size, as few and as small as cover the axis, start at 0, end at the edge, overlap by >= 2·pad', () => {
    for (const length of [1, 5, 95, 96, 97, 200, 230, 256, 257, 1000, 1080, 2048]) {
      for (const [tile, pad] of [[64, 16], [32, 8], [100, 0], [192, 16]] as const) {
        const p = planAxis(length, tile, pad);
        const largest = Math.min(length, tile + 2 * pad);
        const n = p.starts.length;
        // As few windows as a stride of at most `tile` needs with windows of `largest` pixels...
        expect(n).toBe(largest === length ? 1 : Math.ceil((length - largest) / tile) + 1);
        // ...each the fewest pixels with which n of them overlap by 2·pad.
        expect(p.window).toBeLessThanOrEqual(largest);
        expect(p.window).toBe(n === 1 ? length : Math.ceil((length + 2 * pad * (n - 1)) / n));
        expect(p.starts[0]).toBe(0);
        expect(p.starts[p.starts.length - 1]! + p.window).toBe(length);
        for (let i = 1; i < p.starts.length; i++) {
          const stride = p.starts[i]! - p.starts[i - 1]!;
          expect(stride).toBeGreaterThan(0);
          expect(stride).toBeLessThanOrEqual(tile);
          expect(p.window - stride).toBeGreaterThanOrEqual(2 * pad);
        }
      }
    }
    expect(planAxis(500, 0, 16)).toEqual({ length: 500, window: 500, starts: [0] });
    // 2048 at tile 192: 11 windows of 216 (overlaps 32-33) rather than of 224 (overlaps 41-42).
    expect(planAxis(2048, 192, 16)).toMatchObject({ window: 216 });
    expect(planAxis(2048, 192, 16).starts).toHaveLength(11);
    expect(planTiles(256, 256, 64, 16).count).toBe(16);
    expect(() => planAxis(10, -1, 0)).toThrow(/tile/);
    expect(() => planAxis(10, 4, 1.5)).toThrow(/tilePad/);
  });

  it('blending weights sum to one everywhere and vanish in the margin at inner edges', () => {
    for (const [length, tile, pad, scale] of [[256, 64, 16, 4], [300, 50, 10, 2], [97, 32, 8, 3], [40, 64, 16, 2]] as const) {
      const plan = planAxis(length, tile, pad);
      const margin = Math.floor(pad / 2) * scale;
      const w = axisWeights(plan, scale, margin);
      const sum = new Float64Array(length * scale);
      plan.starts.forEach((s, i) => w.weights[i]!.forEach((v, k) => (sum[s * scale + k]! += v)));
      for (const v of sum) expect(v).toBeCloseTo(1, 6);
      for (let i = 1; i < plan.starts.length; i++) for (let k = 0; k < margin; k++) expect(w.weights[i]![k]).toBe(0);
      // Image borders are not faded.
      expect(w.weights[0]![0]).toBe(1);
      expect(w.weights[plan.starts.length - 1]!.at(-1)).toBe(1);
    }
  });
});

describe('streaming MATLAB resize', () => {
  for (const [inSize, outSize] of [[[37, 53], [80, 101]], [[37, 53], [20, 31]], [[16, 16], [16, 40]], [[30, 12], [45, 12]]] as [[number, number], [number, number]][]) {
    it(`${inSize.join('×')} -> ${outSize.join('×')} equals imresize({size}), fed in uneven bands`, () => {
      const C = 2;
      const [H, W] = inSize;
      const x = rand([1, C, H, W], { generator: new Generator(4) });
      const xv = x.toFloat32Array();
      const expected = noGrad(() => tidy(() => imresize(x, { size: outSize }).toFloat32Array()));
      x.dispose();
      const got = new Float32Array(C * outSize[0] * outSize[1]);
      let row = 0;
      const sink: RowSink = {
        write(rows, n) {
          for (let c = 0; c < C; c++) got.set(rows.subarray(c * n * outSize[1], (c + 1) * n * outSize[1]), (c * outSize[0] + row) * outSize[1]);
          row += n;
        },
      };
      const r = new StreamingResizer(C, inSize, outSize, sink);
      for (let y = 0, step = 1; y < H; y += step, step = (step % 5) + 1) {
        const n = Math.min(step, H - y);
        const band = new Float32Array(C * n * W);
        for (let c = 0; c < C; c++) band.set(xv.subarray((c * H + y) * W, (c * H + y + n) * W), c * n * W);
        r.write(band, n);
      }
      expect(row).toBe(outSize[0]);
      expect(maxAbsDiff(got, expected)).toBeLessThan(2e-5);
    });
  }
});

describe('inference forward (tape off) frees as it goes', () => {
  for (const [name, config] of [
    ['default architecture', {}],
    ['C 8, 2 CPBs, ×3', { scale: 3, channels: 8, nCpb: 2 }],
    ['without cross fusion', { scale: 2, channels: 8, nCpb: 2, crossFusion: false }],
  ] as const) {
    it(`${name}: equals the taped forward (up to rounding) and leaves only its output behind`, () => {
      const m = createModel(config, { seed: 2 });
      const x = rand([1, 3, 12, 10], { generator: new Generator(1) });
      const before = memory().tensors;
      const a = noGrad(() => m.forwardImage(x));
      expect(memory().tensors).toBe(before + 1);
      const b = tidy(() => m.forwardImage(x).toFloat32Array());
      // One image: the squeeze-excitations are folded into their consumers (cpb.ts), other roundings.
      expect(maxAbsDiff(a.toFloat32Array(), b)).toBeLessThan(1e-5);
      a.dispose();
      // A cancellation thrown from afterBlock inside tidy frees everything made so far.
      let calls = 0;
      const stop = () => {
        if (++calls === 2) throw new Error('stop');
      };
      expect(() => noGrad(() => tidy(() => m.forwardImage(x, { afterBlock: stop })))).toThrow('stop');
      expect(memory().tensors).toBe(before);
      x.dispose();
      m.dispose();
    });
  }
});

describe('upscale', () => {
  it('acceptance: default architecture, 256×256, tile 64 / pad 16 vs untiled: PSNR >= 45 dB', async () => {
    const model = createModel({}, { seed: 1 });
    const input = await photo(256, 256);
    const up = await Upscaler.create({ model });
    try {
      let tiles = 0;
      const tiled = await up.upscale(input, { tile: 64, tilePad: 16, onProgress: (p) => (tiles = p.tiles) });
      const whole = await up.upscale(input, { tile: 0 });
      expect(tiles).toBe(16);
      expect([tiled.width, tiled.height, tiled.channels]).toEqual([1024, 1024, 3]);
      const db = psnr(tiled, whole);
      console.log(`tiled vs untiled: ${db.toFixed(2)} dB`);
      expect(db).toBeGreaterThanOrEqual(45);
    } finally {
      await up.close();
      model.dispose();
    }
  });

  it('returns the input’s kind: Buffer in its format, raw pixels, or a tensor', async () => {
    const model = small();
    const input = await photo(40, 30);
    const up = await Upscaler.create({ model });
    try {
      const raw = await up.upscale(input, { tile: 16, tilePad: 4 });
      expect([raw.width, raw.height, raw.channels, raw.bitDepth]).toEqual([80, 60, 3, 8]);
      const jpeg = await encodeImage({ ...input, bitDepth: 8, format: 'raw', hasAlpha: false }, { format: 'jpeg' });
      const outJpeg = await up.upscale(jpeg, { tile: 16, tilePad: 4 });
      expect((await readImage(outJpeg)).format).toBe('jpeg');
      const png = await up.upscale(input, { tile: 16, tilePad: 4, format: 'png' });
      const back = await readImage(png);
      expect([back.format, back.width, back.height]).toEqual(['png', 80, 60]);
      expect(maxAbsDiff(back.data, raw.data)).toBe(0);
      // A tensor gives a tensor: the same values before rounding.
      const t = imageToTensor({ ...input, bitDepth: 8, format: 'raw', hasAlpha: false });
      const y = await up.upscale(t, { tile: 16, tilePad: 4 });
      expect(y.shape).toEqual([1, 3, 60, 80]);
      expect(maxAbsDiff(tensorToImage(y).data, raw.data)).toBe(0);
      t.dispose();
      y.dispose();
    } finally {
      await up.close();
      model.dispose();
    }
  });

  it('alpha: colour as without it, alpha = bicubic of the alpha (or through the model)', async () => {
    const model = small();
    const rgb = await photo(36, 28);
    const alpha = await photo(36, 28, 'camera.png', 200, 200);
    const rgba = new Uint8Array(36 * 28 * 4);
    for (let i = 0; i < 36 * 28; i++) {
      rgba.set(rgb.data.subarray(3 * i, 3 * i + 3), 4 * i);
      rgba[4 * i + 3] = alpha.data[3 * i]!;
    }
    const up = await Upscaler.create({ model });
    try {
      const plain = await up.upscale(rgb, { tile: 12, tilePad: 4 });
      const out = await up.upscale({ data: rgba, width: 36, height: 28, channels: 4 }, { tile: 12, tilePad: 4 });
      expect(out.channels).toBe(4);
      for (let c = 0; c < 3; c++) expect(maxAbsDiff(channel(out, c), channel(plain, c))).toBe(0);
      const a = tensor(Float32Array.from(channel({ ...alpha, bitDepth: 8, format: 'raw', hasAlpha: false }, 0), (v) => v / 255), [1, 1, 28, 36]);
      const bicubic = noGrad(() => tidy(() => tensorToImage(imresize(a, { scale: 2 }))));
      a.dispose();
      expect(maxAbsDiff(channel(out, 3), bicubic.data)).toBeLessThanOrEqual(1);
      const viaModel = await up.upscale({ data: rgba, width: 36, height: 28, channels: 4 }, { tile: 12, tilePad: 4, alpha: 'model' });
      expect(maxAbsDiff(channel(viaModel, 3), channel(out, 3))).toBeGreaterThan(1);
      // JPEG cannot hold alpha: refused before any work.
      await expect(up.upscale({ data: rgba, width: 36, height: 28, channels: 4 }, { format: 'jpeg' })).rejects.toThrow(/JPEG cannot store the alpha/);
    } finally {
      await up.close();
      model.dispose();
    }
  });

  it('grey in, grey out (the luma of the replicated input); grey + alpha keeps both', async () => {
    const model = small();
    const rgb = await photo(30, 26, 'camera.png', 100, 100);
    const grey = new Uint8Array(30 * 26);
    for (let i = 0; i < grey.length; i++) grey[i] = rgb.data[3 * i]!;
    const up = await Upscaler.create({ model });
    try {
      const png = await encodeImage({ data: grey, width: 30, height: 26, channels: 1, bitDepth: 8, format: 'raw', hasAlpha: false }, { format: 'png' });
      const out = await readImage(await up.upscale(png, { tile: 12, tilePad: 4 }));
      expect([out.channels, out.width, out.height]).toEqual([1, 60, 52]);
      const colour = await up.upscale(rgb, { tile: 12, tilePad: 4 });
      const luma = channel(colour, 0).map((r, i) => 0.299 * r + 0.587 * colour.data[3 * i + 1]! + 0.114 * colour.data[3 * i + 2]!);
      expect(maxAbsDiff(out.data, luma)).toBeLessThanOrEqual(1.01);
      const ga = new Uint8Array(30 * 26 * 2);
      for (let i = 0; i < grey.length; i++) [ga[2 * i], ga[2 * i + 1]] = [grey[i]!, 255 - grey[i]!];
      const two = await up.upscale({ data: ga, width: 30, height: 26, channels: 2 }, { tile: 12, tilePad: 4, format: 'png' });
      const back = await readImage(two);
      expect([back.channels, back.hasAlpha]).toEqual([2, true]);
      expect(maxAbsDiff(channel(back, 0), out.data)).toBe(0);
    } finally {
      await up.close();
      model.dispose();
    }
  });

  it('16-bit stays 16-bit (PNG and raw), matching the 8-bit result to within rounding', async () => {
    const model = small();
    const input = await photo(24, 20);
    const deep = Uint16Array.from(input.data, (v) => v * 257);
    const up = await Upscaler.create({ model });
    try {
      const out8 = await up.upscale(input, { tile: 12, tilePad: 2 });
      const raw16 = await up.upscale({ data: deep, width: 24, height: 20, channels: 3 }, { tile: 12, tilePad: 2 });
      expect(raw16.bitDepth).toBe(16);
      expect(raw16.data).toBeInstanceOf(Uint16Array);
      expect(maxAbsDiff(Array.from(raw16.data, (v) => v / 257), out8.data)).toBeLessThanOrEqual(0.51);
      const png16 = await encodeImage({ data: deep, width: 24, height: 20, channels: 3, bitDepth: 16, format: 'raw', hasAlpha: false }, { format: 'png' });
      const back = await readImage(await up.upscale(png16, { tile: 12, tilePad: 2 }));
      expect([back.bitDepth, back.format]).toEqual([16, 'png']);
      expect(maxAbsDiff(back.data, raw16.data)).toBe(0);
    } finally {
      await up.close();
      model.dispose();
    }
  });

  it('applies the EXIF orientation', async () => {
    const model = small();
    const input = await photo(40, 24);
    const jpeg = await sharp(Buffer.from(input.data), { raw: { width: 40, height: 24, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const out = await readImage(await upscale(jpeg, { model, tile: 16, tilePad: 4 }));
    // Orientation 6 is a quarter turn: the image is upright as 24 wide, 40 tall.
    expect([out.width, out.height]).toEqual([48, 80]);
    model.dispose();
  });

  it('outscale: the model output resized with MATLAB bicubic, up or down', async () => {
    const model = small();
    const input = await photo(33, 27);
    const t = imageToTensor({ ...input, bitDepth: 8, format: 'raw', hasAlpha: false });
    const up = await Upscaler.create({ model });
    try {
      const base = await up.upscale(t, { tile: 16, tilePad: 4 });
      for (const outscale of [3.5, 1.5]) {
        const y = await up.upscale(t, { tile: 16, tilePad: 4, outscale });
        const size: [number, number] = [Math.round(27 * outscale), Math.round(33 * outscale)];
        expect(y.shape).toEqual([1, 3, ...size]);
        const expected = noGrad(() => tidy(() => imresize(base, { size }).toFloat32Array().map((v) => Math.min(1, Math.max(0, v)))));
        expect(maxAbsDiff(y.toFloat32Array(), expected)).toBeLessThan(1e-5);
        y.dispose();
      }
      base.dispose();
    } finally {
      await up.close();
      t.dispose();
      model.dispose();
    }
  });

  it('progress fires per tile while the event loop keeps turning; an AbortSignal cancels mid-run and frees the worker', async () => {
    const model = createModel({ scale: 2, channels: 32, nCpb: 3 }, { seed: 1 });
    const input = await photo(128, 128);
    const before = memory().tensors;
    const controller = new AbortController();
    const events: number[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const run = upscale(input, {
      model,
      tile: 16,
      tilePad: 4,
      signal: controller.signal,
      onProgress: (p) => {
        events.push(p.tilesDone);
        if (p.tilesDone === 3) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    clearInterval(timer);
    expect(events.slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(events.length).toBeLessThan(planTiles(128, 128, 16, 4).count);
    expect(ticks).toBeGreaterThan(2);
    // The worker freed its model and tensors before the promise rejected.
    expect(memory().tensors).toBe(before);
    // An already aborted signal rejects at once.
    await expect(upscale(input, { model, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    model.dispose();
  });

  it('cancels within a tile, not after it (default model, one large tile)', async () => {
    const model = createModel({}, { seed: 1 });
    // Twice the default tile each way, so the one pass takes several seconds and the abort at 1.5 s
    // lands inside it even on a fast, idle machine (a 192² pass took ~1.5 s with start-up).
    const input = await photo(2 * DEFAULT_TILE, 2 * DEFAULT_TILE);
    const controller = new AbortController();
    let done = 0;
    const t0 = performance.now();
    const run = upscale(input, { model, tile: 0, signal: controller.signal, onProgress: (p) => (done = p.tilesDone) });
    setTimeout(() => controller.abort(), 1500);
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(done).toBe(0);
    console.log(`cancelled after ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    model.dispose();
  });

  it('errors name what is wrong', async () => {
    const model = small();
    await expect(upscale(Buffer.from('not an image at all'), { model })).rejects.toBeInstanceOf(ImageError);
    await expect(upscale('/nonexistent/x.png', { model })).rejects.toThrow(/x\.png/);
    await expect(upscale(await photo(8, 8), {} as never)).rejects.toThrow(/pretrained weights/);
    await expect(upscale(await photo(8, 8), { model: '/nonexistent/m.safetensors' })).rejects.toThrow(/m\.safetensors/);
    await expect(upscale({ data: new Uint8Array(5), width: 2, height: 2, channels: 3 }, { model })).rejects.toThrow(/12/);
    await expect(upscale(await photo(8, 8), { model, tile: -1 })).rejects.toThrow(/tile/);
    await expect(upscale(await photo(8, 8), { model, outscale: 0 })).rejects.toThrow(/outscale/);
    await expect(upscale(await photo(8, 8), { model, cudaGraph: 'yes' as never })).rejects.toThrow(/cudaGraph must be a boolean/);
    model.dispose();
  });
});
