// Inference precisions (lib/infer/precision.ts, native/cpu/inference_precision.h) on trained
// weights: the default ×4 model after 40 Adam steps on patches of data/images
// (bench/briefly-trained.ts; a real checkpoint is ~24 MB, too big to commit). Trained rather
// than freshly initialised weights because training grows and correlates the kernels, so the
// activations and their cancellations, which decide how rounding propagates, are those of a model
// in use (random weights are the easier case here: measured bf16 vs fp32 55 dB on them).
// Bounds, output on a [0, 1] image (docs/upscaling.md#precision):
//   'fp32' vs float64 direct loops: PSNR >= 60 dB and max |error| <= 1e-3 (a quarter of an 8-bit step),
//                                   and the same for F(6x6) and F(8x8) forced (setConvAlgorithm('winograd6'),
//                                   'winograd8'), which 'fp32' takes for inputs of 16 MB and more and for
//                                   planes of 128 columns and more (checked below)
//   'bf16' vs 'fp32':               PSNR >= 50 dB and max |error| <= 8/255 (bf16 Winograd F(4x4); F(6x6)
//                                   for inputs of 16 MB and more, as c1's at 208² below)
//   'strict': bitwise the forward of training (per convolution: F(4x4) or F(2x2) Winograd, forced by
//             setConvAlgorithm('winograd') / ('winograd2'))
// and the setting is per thread, scoped, forward-only, and validated.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { native, packageRoot } from '../bindings/index.js';
import * as mp from '../lib/index.js';
import { MPFNet } from '../lib/models/mpfnet/mpfnet.js';
import { fromHandle } from '../lib/tensor.js';
import { brieflyTrainedX4, patchBatch } from '../bench/briefly-trained.js';
import { buildCli, cleanupCli, runCli } from './helpers/cli.js';

/** PSNR (peak 1) and the largest absolute difference of a vs the reference b. */
function compare(a: ArrayLike<number>, b: ArrayLike<number>): { psnr: number; maxAbs: number } {
  let se = 0;
  let maxAbs = 0;
  for (let i = 0; i < b.length; i++) {
    const d = a[i]! - b[i]!;
    se += d * d;
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  return { psnr: 10 * Math.log10(b.length / Math.max(se, 1e-300)), maxAbs };
}

const fmt = (c: { psnr: number; maxAbs: number }) => `${c.psnr.toFixed(1)} dB, max ${c.maxAbs.toExponential(2)}`;

let model: MPFNet;
let x: mp.Tensor;
const forward = (p: mp.InferencePrecision): Float32Array => mp.withInferencePrecision(p, () => mp.noGrad(() => mp.tidy(() => model.forward(x).toFloat32Array())));
const dir = mkdtempSync(join(tmpdir(), 'mpfnet-precision-'));

beforeAll(async () => {
  model = await brieflyTrainedX4();
  model.eval();
  x = (await patchBatch(1, 96, new mp.Generator(11))).lr.astype('float32');
}, 300_000);

afterAll(() => {
  model.dispose();
  x.dispose();
  cleanupCli();
  rmSync(dir, { recursive: true, force: true });
});

describe('inference precision on trained weights', () => {
  it("'fp32' within 60 dB / 1e-3 of the float64 direct loops; 'strict' is the training forward", () => {
    const m64 = new MPFNet({ scale: 4 }, { dtype: 'float64', generator: new mp.Generator(0) }).loadStateDict(model.stateDict());
    m64.eval();
    const before = mp.setConvAlgorithm('direct');
    let ref: Float64Array;
    try {
      ref = mp.noGrad(() => mp.tidy(() => m64.forward(x.astype('float64')).toFloat64Array()));
    } finally {
      mp.setConvAlgorithm(before);
      m64.dispose();
    }
    expect(mp.getInferencePrecision()).toBe('strict');
    const strict = forward('strict');
    const fp32 = forward('fp32');
    const cs = compare(strict, ref);
    const cf = compare(fp32, ref);
    // F(6x6, 3x3) and F(8x8, 3x3), forced ('winograd6', 'winograd8'; what 'fp32' picks for inputs
    // of 16 MB and more and for planes of 128 columns and more, larger than this test's): the same bound.
    const forcedForward = (name: mp.ConvAlgorithm) => {
      const algo = mp.setConvAlgorithm(name);
      try {
        return forward('strict');
      } finally {
        mp.setConvAlgorithm(algo);
      }
    };
    const c6 = compare(forcedForward('winograd6'), ref);
    const c8 = compare(forcedForward('winograd8'), ref);
    console.log(
      `×4 model, 40 Adam steps, 24² input (a 96² patch downscaled): strict vs float64 ${fmt(cs)}; fp32 vs float64 ${fmt(cf)}; winograd6 vs float64 ${fmt(c6)}; winograd8 vs float64 ${fmt(c8)}`,
    );
    for (const c of [cf, c6, c8]) {
      expect(c.psnr).toBeGreaterThanOrEqual(60);
      expect(c.maxAbs).toBeLessThanOrEqual(1e-3);
    }
    // 'strict' takes the training forward's convolutions, bit for bit: F(4x4) where a convolution
    // keeps or narrows its channels (c1, 104 -> 52; c2, 52 -> 52), F(2x2) where it widens them
    // (the upsampler's 52 -> 208).
    const g = new mp.Generator(12);
    for (const [cin, cout, algo] of [[104, 52, 'winograd'], [52, 52, 'winograd'], [52, 208, 'winograd2']] as const) {
      const xi = mp.randn([1, cin, 24, 24], { generator: g });
      const w = mp.randn([cout, cin, 3, 3], { generator: g });
      const run = () => mp.noGrad(() => mp.tidy(() => mp.conv2d(xi, w, null, { padding: 1 }).toFloat32Array()));
      const strictConv = run();
      const algo0 = mp.setConvAlgorithm(algo);
      try {
        expect(Buffer.compare(Buffer.from(strictConv.buffer), Buffer.from(run().buffer)), `${cin} -> ${cout}`).toBe(0);
      } finally {
        mp.setConvAlgorithm(algo0);
        xi.dispose();
        w.dispose();
      }
    }
    expect(Buffer.compare(Buffer.from(forward('fp32').buffer), Buffer.from(fp32.buffer))).toBe(0);
  }, 120_000);

  // At 208² (a crop of a photo as the input) the blocks' planes are 208 columns wide, so 'fp32' runs
  // c1 and c2 in F(8x8): the whole model against 'strict' (training's forward, 130.2 dB from float64
  // at 24²; measured 130.6 dB, max 5.2e-6) and 'bf16' against that 'fp32' (62.7 dB, max 6.7e-3: 1.7
  // 8-bit steps).
  it("'fp32' with F(8x8) in the blocks (208² input) within 60 dB / 1e-3 of 'strict'; 'bf16' within 50 dB / 8/255 of it", async () => {
    const img = await mp.readImage(join(packageRoot(), 'data', 'images', 'coffee.png'));
    const { data, channels, width } = mp.imageToFloat32(img);
    const S = 208;
    const x32 = new Float32Array(3 * S * S);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < S; y++) for (let i = 0; i < S; i++) x32[(c * S + y) * S + i] = data[((y + 50) * width + i + 100) * channels + c]!;
    const big = mp.tensor(x32, [1, 3, S, S]);
    const run = (p: mp.InferencePrecision) => mp.withInferencePrecision(p, () => mp.noGrad(() => mp.tidy(() => model.forward(big).toFloat32Array())));
    try {
      const strict = run('strict');
      const fp32 = run('fp32');
      const cf = compare(fp32, strict);
      const checks = [`fp32 vs strict ${fmt(cf)}`];
      expect(cf.psnr).toBeGreaterThanOrEqual(60);
      expect(cf.maxAbs).toBeLessThanOrEqual(1e-3);
      if (mp.bf16Supported()) {
        const cb = compare(run('bf16'), fp32);
        checks.push(`bf16 vs fp32 ${fmt(cb)}`);
        expect(cb.psnr).toBeGreaterThanOrEqual(50);
        expect(cb.maxAbs).toBeLessThanOrEqual(8 / 255);
      }
      console.log(`×4 model, 40 Adam steps, 208² photo input: ${checks.join('; ')}`);
    } finally {
      big.dispose();
    }
  }, 120_000);

  // bf16 runs Winograd F(4x4) at this size, whose transforms amplify bf16's rounding
  // (native/cpu/conv2d.cc, bf16_algo): measured 61.2 dB and a worst pixel of 1.2 8-bit steps (53.3 dB
  // and 6.5 steps while the last upsampling stage ran in bf16 too); bounds 50 dB and 8 steps.
  it.skipIf(!mp.bf16Supported())("'bf16' within 50 dB / 8/255 of 'fp32'", () => {
    const fp32 = forward('fp32');
    const bf16 = forward('bf16');
    const c = compare(bf16, fp32);
    console.log(`×4 model, 40 Adam steps, 24² input (a 96² patch downscaled): bf16 vs fp32 ${fmt(c)}`);
    expect(c.psnr).toBeGreaterThanOrEqual(50);
    expect(c.maxAbs).toBeLessThanOrEqual(8 / 255);
    expect(c.maxAbs).toBeGreaterThan(0); // the bf16 kernels did run
  }, 60_000);

  // bf16 takes F(6x6) where the input leaves the cache, as c1's does at 256² (native/cpu/conv2d.cc,
  // bf16_algo). A convolution is local, so where the whole image runs F(4x4) its first 15 tile rows
  // (output rows 0-59) come out bit for bit as from a crop of its first 64 rows (2.7 MB, F(4x4));
  // where it runs F(6x6) they do not.
  it.skipIf(!mp.bf16Supported())("'bf16' runs F(6x6) from 16 MB of input, else F(4x4)", () => {
    const g = new mp.Generator(9);
    const w = mp.randn([16, 104, 3, 3], { generator: g });
    const conv = (x: mp.Tensor, p: mp.InferencePrecision) =>
      mp.withInferencePrecision(p, () => mp.noGrad(() => mp.tidy(() => mp.conv2d(x, w, null, { padding: 1 }).toFloat32Array())));
    const width = 100;
    const plane = (o: Float32Array, rows: number, c: number) => o.subarray(c * rows * width, c * rows * width + 60 * width);
    try {
      // 17.5 MB and 13.3 MB of input.
      for (const [h, f6] of [[420, true], [320, false]] as const) {
        const data = mp.tidy(() => mp.randn([1, 104, h, width], { generator: g }).toFloat32Array());
        const cropData = new Float32Array(104 * 64 * width);
        for (let c = 0; c < 104; c++) cropData.set(data.subarray(c * h * width, c * h * width + 64 * width), c * 64 * width);
        const [whole, crop] = mp.tidy(() => [conv(mp.tensor(data, [1, 104, h, width]), 'bf16'), conv(mp.tensor(cropData, [1, 104, 64, width]), 'bf16')]);
        const cropFp32 = mp.tidy(() => conv(mp.tensor(cropData, [1, 104, 64, width]), 'fp32'));
        expect(Buffer.compare(Buffer.from(crop.buffer), Buffer.from(cropFp32.buffer)), 'the bf16 kernels ran').not.toBe(0);
        let same = true;
        for (let c = 0; c < 16; c++) same &&= Buffer.compare(Buffer.from(plane(whole, h, c).slice().buffer), Buffer.from(plane(crop, 64, c).slice().buffer)) === 0;
        expect(same, `${h}x${width}: F(${f6 ? 6 : 4}x${f6 ? 6 : 4})`).toBe(!f6);
      }
    } finally {
      w.dispose();
    }
  }, 60_000);

  it("'bf16' runs as 'fp32' (one warning) where the SIMD level is below avx512", () => {
    const before = native.simd();
    native.setSimd('avx2');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      expect(mp.bf16Supported()).toBe(false);
      const fp32 = forward('fp32');
      expect(Buffer.compare(Buffer.from(forward('bf16').buffer), Buffer.from(fp32.buffer))).toBe(0);
      forward('bf16');
    } finally {
      native.setSimd(before);
      expect(native.simd()).toBe(before);
    }
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        process.off('warning', onWarning);
        expect(warnings.filter((m) => m.includes('bf16')).length).toBeLessThanOrEqual(1);
        resolve();
      }),
    );
  }, 60_000);
});

describe('the setting', () => {
  it('is scoped, returns the previous value, and rejects bad values naming them', () => {
    expect(mp.setInferencePrecision('fp32')).toBe('strict');
    expect(mp.setInferencePrecision('strict')).toBe('fp32');
    expect(() => mp.withInferencePrecision('fp32', () => {
      expect(mp.getInferencePrecision()).toBe('fp32');
      throw new Error('inside');
    })).toThrow('inside');
    expect(mp.getInferencePrecision()).toBe('strict');
    expect(() => mp.setInferencePrecision('fp16' as mp.InferencePrecision)).toThrow(RangeError);
    expect(() => mp.setInferencePrecision('fp16' as mp.InferencePrecision)).toThrow(/'fp16'/);
    expect(() => native.inferencePrecision('half' as mp.InferencePrecision)).toThrow(/'half'/);
    expect(() => native.inferencePrecision(3 as unknown as mp.InferencePrecision)).toThrow(TypeError);
    expect(() => mp.withInferencePrecision('fp32', async () => {})).toThrow(TypeError);
    expect(mp.getInferencePrecision()).toBe('strict');
  });

  // 'fp32' takes F(8x8) with AVX-512 or AVX2 for planes of 128 columns and more with 16 channels and more in
  // and out (native/cpu/conv2d.cc, f8_pays), else F(6x6) once the input is 16 MB or more
  // (input_leaves_cache), else F(4x4): each output is bit for bit the forced algorithm's.
  it("'fp32' runs F(8x8) on planes 128 wide (AVX-512, AVX2), else F(6x6) from 16 MB of input, else F(4x4)", () => {
    const g = new mp.Generator(8);
    const w = mp.randn([16, 104, 3, 3], { generator: g });
    const simd0 = native.simd();
    // Where the CPU has AVX-512, the same choices capped at AVX2 too; without a staging network
    // for F(8x8) (NEON, scalar) the wide plane keeps F(4x4).
    for (const level of simd0 === 'avx512' ? (['avx512', 'avx2'] as const) : [simd0]) {
      native.setSimd(level);
      const wide = level === 'avx512' || level === 'avx2' ? 'winograd8' : 'winograd';
      try {
        // 1.7 MB, 17.5 MB (100 columns) and 7.0 MB (130 columns) of input.
        for (const [h, wd, algo] of [[64, 64, 'winograd'], [420, 100, 'winograd6'], [130, 130, wide]] as const) {
          const x = mp.randn([1, 104, h, wd], { generator: g });
          const run = () => mp.noGrad(() => mp.tidy(() => mp.conv2d(x, w, null, { padding: 1 }).toFloat32Array()));
          const fp32 = mp.withInferencePrecision('fp32', run);
          const before = mp.setConvAlgorithm(algo);
          let forced: Float32Array;
          let other: Float32Array;
          try {
            forced = run();
            mp.setConvAlgorithm(algo === 'winograd' ? 'winograd6' : 'winograd');
            other = run();
          } finally {
            mp.setConvAlgorithm(before);
          }
          expect(Buffer.compare(Buffer.from(fp32.buffer), Buffer.from(forced.buffer)), `${level} ${h}x${wd}: 'fp32' is ${algo}`).toBe(0);
          expect(Buffer.compare(Buffer.from(fp32.buffer), Buffer.from(other.buffer))).not.toBe(0);
          x.dispose();
        }
      } finally {
        native.setSimd(simd0);
      }
    }
    w.dispose();
  });

  it("fuses SELU with the shorter exp under 'fp32' and 'bf16' (within 4e-7 of selu() per element); 'strict' bit for bit", () => {
    const g = new mp.Generator(9);
    const x = mp.randn([1, 52, 24, 20], { generator: g });
    const w = mp.noGrad(() => mp.tidy(() => mp.mul(mp.randn([52, 52, 3, 3], { generator: g }), 0.05)));
    const b = mp.randn([52], { generator: g });
    for (const p of ['strict', 'fp32', 'bf16'] as const) {
      const [fused, apart] = mp.withInferencePrecision(p, () =>
        mp.noGrad(() =>
          mp.tidy(() => [
            mp.conv2d(x, w, b, { padding: 1, activation: 'selu' }).toFloat32Array(),
            mp.selu(mp.conv2d(x, w, b, { padding: 1 })).toFloat32Array(),
          ]),
        ),
      );
      if (p === 'strict') {
        expect(Buffer.compare(Buffer.from(fused.buffer), Buffer.from(apart.buffer))).toBe(0);
        continue;
      }
      let negatives = 0;
      for (let i = 0; i < apart.length; i++) {
        if (apart[i]! < 0) negatives++;
        expect(Math.abs(fused[i]! - apart[i]!), `${p} element ${i}`).toBeLessThanOrEqual(4e-7 * Math.max(Math.abs(apart[i]!), 1));
      }
      expect(negatives).toBeGreaterThan(apart.length / 4);  // the exp branch is exercised
    }
    for (const t of [x, w, b]) t.dispose();
  });

  it('never changes gradients', () => {
    const g = new mp.Generator(5);
    const xs = mp.randn([1, 8, 13, 11], { generator: g });
    const w = mp.randn([6, 8, 3, 3], { generator: g });
    const gy = mp.randn([1, 6, 13, 11], { generator: g });
    const grads = (p: mp.InferencePrecision) =>
      mp.withInferencePrecision(p, () => {
        const r = native.conv2dBackward('cpu', [xs.handle], w.handle, gy.handle, [1, 1], [1, 1], [1, 1], true, true, false);
        const out = [r.gxs![0]!, r.gw!].map((h) => fromHandle(h));
        const arrays = out.map((t) => t.toFloat32Array());
        for (const t of out) t.dispose();
        return arrays;
      });
    const strict = grads('strict');
    for (const p of ['fp32', 'bf16'] as const) {
      const got = grads(p);
      for (let i = 0; i < 2; i++) expect(Buffer.compare(Buffer.from(got[i]!.buffer), Buffer.from(strict[i]!.buffer))).toBe(0);
    }
    for (const t of [xs, w, gy]) t.dispose();
  });

  it("travels to the upscale worker's thread only (default 'fp32'), not back to the caller", async () => {
    const small = mp.createModel({ scale: 2, channels: 8, nCpb: 1 }, { seed: 4 });
    const input = mp.rand([1, 3, 20, 24], { generator: new mp.Generator(6) });
    const local = (p: mp.InferencePrecision) => mp.withInferencePrecision(p, () => mp.noGrad(() => mp.tidy(() => small.forwardImage(input).toFloat32Array())));
    try {
      const precisions: (mp.InferencePrecision | undefined)[] = [undefined, 'strict', 'fp32', ...(mp.bf16Supported() ? (['bf16'] as const) : [])];
      for (const p of precisions) {
        const up = await mp.Upscaler.create({ model: small, precision: p });
        try {
          const out = await up.upscale(input, { tile: 0 });
          expect(mp.getInferencePrecision()).toBe('strict');
          const want = local(p ?? 'fp32');
          expect(Buffer.compare(Buffer.from(out.toFloat32Array().buffer), Buffer.from(want.buffer))).toBe(0);
          out.dispose();
        } finally {
          await up.close();
        }
      }
      await expect(mp.Upscaler.create({ model: small, precision: 'fp64' as mp.InferencePrecision })).rejects.toThrow(/precision.*'fp64'/);
      await expect(mp.upscale(input, { model: small, precision: 'x' as mp.InferencePrecision })).rejects.toThrow(RangeError);
    } finally {
      small.dispose();
      input.dispose();
    }
  }, 120_000);

  it('mpfnet upscale --precision: bf16 and strict run; a bad value is named', async () => {
    buildCli();
    const m = mp.createModel({ scale: 2, channels: 8, nCpb: 1 }, { seed: 5 });
    const ckpt = join(dir, 'm.safetensors');
    await m.save(ckpt);
    m.dispose();
    const src = join(dir, 'in.png');
    const data = new Uint8Array(24 * 20 * 3).map((_, i) => (i * 37) % 256);
    writeFileSync(src, await mp.encodeImage({ data, width: 24, height: 20, channels: 3, bitDepth: 8, format: 'raw', hasAlpha: false }, { format: 'png' }));
    for (const p of ['bf16', 'strict']) {
      const r = runCli(['upscale', src, '-o', join(dir, `out-${p}.png`), '--model', ckpt, '--precision', p, '-q']);
      expect(r.status, r.stderr).toBe(0);
      expect((await mp.readImage(join(dir, `out-${p}.png`))).width).toBe(48);
    }
    // Capped below AVX-512: bf16 falls back to fp32 with one notice line, never an error.
    const capped = runCli(['upscale', src, '-o', join(dir, 'out-capped.png'), '--model', ckpt, '--precision', 'bf16', '-q'], { env: { MPFNET_SIMD: 'avx2' } });
    expect(capped.status, capped.stderr).toBe(0);
    expect(capped.stderr.split('\n').filter((l) => l.includes('bf16')).length).toBe(1);
    const bad = runCli(['upscale', src, '-o', join(dir, 'x.png'), '--model', ckpt, '--precision', 'fp16']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--precision.*fp16/);
  }, 300_000);
});
