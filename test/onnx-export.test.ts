// ONNX export (lib/export/onnx/, docs/export-onnx.md) checked in independent runtimes:
// onnxruntime-node runs the exported model and must give our forward (≤ 1e-4 relative) for every
// config; models trained by PyTorch (test/fixtures/gen_onnx.py) must give PyTorch's own output;
// --fp16 costs < 45 dB PSNR; onnxruntime-web's WASM backend gives the same output as the native one;
// bad input fails naming the file and leaves no partial .onnx.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { main } from '../lib/cli/main.js';
import { encodeOnnx, exportOnnx } from '../lib/export/onnx/index.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../lib/export/onnx/float16.js';
import { encodeSafetensors, readSafetensors } from '../lib/io/safetensors.js';
import { createModel, loadModel, type MPFNet } from '../lib/models/mpfnet/mpfnet.js';
import { maxRelativeError, ours, psnrFloat, runOrtNode, runOrtWeb, seededInput } from './helpers/onnx.js';

const dir = mkdtempSync(join(tmpdir(), 'mpfnet-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (name: string) => new URL(`./fixtures/onnx/${name}`, import.meta.url).pathname;
const { onnx } = onnxProto;

/** Export `model`, run `shape` through ORT and our forward; returns the relative error. */
async function checkAgainstOurs(model: MPFNet, file: string, shapes: number[][], seed: number): Promise<void> {
  await exportOnnx(model, file);
  for (const shape of shapes) {
    const x = seededInput(seed, shape);
    const ref = ours(model, x, shape);
    const got = await runOrtNode(file, x, shape);
    const s = model.scale;
    expect(got.dims).toEqual([shape[0], 3, shape[2]! * s, shape[3]! * s]);
    expect(maxRelativeError(got.data, ref), `${file} ${shape}`).toBeLessThanOrEqual(1e-4);
  }
}

describe('export -> onnxruntime-node matches our forward', () => {
  it('default ×4 (random weights), 48×48; --fp16 costs < 45 dB', async () => {
    const m = createModel({}, { seed: 7 });
    try {
      const shape = [1, 3, 48, 48];
      const x = seededInput(1, shape);
      const file = join(dir, 'x4.onnx');
      await exportOnnx(m, file);
      const fp32 = await runOrtNode(file, x, shape);
      expect(fp32.dims).toEqual([1, 3, 192, 192]);
      expect(maxRelativeError(fp32.data, ours(m, x, shape))).toBeLessThanOrEqual(1e-4);
      // fp16 weights (Cast nodes), float32 interface: the PSNR cost against the fp32 export.
      await exportOnnx(m, join(dir, 'x4-16.onnx'), { fp16: true });
      const db = psnrFloat((await runOrtNode(join(dir, 'x4-16.onnx'), x, shape)).data, fp32.data);
      console.log(`--fp16 on the default ×4 model (random weights), 48×48: ${db.toFixed(1)} dB vs fp32`);
      expect(db).toBeGreaterThanOrEqual(45);
      expect(readFileSync(join(dir, 'x4-16.onnx')).length).toBeLessThan(0.55 * readFileSync(file).length);
    } finally {
      m.dispose();
    }
  });

  const variants: [string, Record<string, unknown>][] = [
    ['×3 small', { scale: 3, channels: 16, nCpb: 2 }],
    ['×2 crossFusion off', { scale: 2, channels: 12, nCpb: 2, crossFusion: false }],
    ['×4, 3 CPBs, MPFE [1,1],[3,2],[5,3] (channels 10)', { scale: 4, channels: 10, nCpb: 3, mpfe: [[1, 1], [3, 2], [5, 3]], seReduction: 4 }],
    ['×2, no CPB, 2 branches', { scale: 2, channels: 8, nCpb: 0, mpfe: [[3, 1], [3, 4]] }],
  ];
  for (const [name, config] of variants) {
    it(name, async () => {
      const m = createModel(config, { seed: 3 });
      try {
        await checkAgainstOurs(m, join(dir, 'v.onnx'), [[1, 3, 48, 48], [2, 3, 37, 53]], 4);
      } finally {
        m.dispose();
      }
    });
  }

  it('every opset 11..22 loads and runs; --static fixes the shape', async () => {
    const m = createModel({ scale: 2, channels: 8, nCpb: 1 }, { seed: 5 });
    try {
      const shape = [1, 3, 21, 17];
      const x = seededInput(6, shape);
      const ref = ours(m, x, shape);
      for (let opset = 11; opset <= 22; opset++) {
        const { bytes, info } = encodeOnnx(m, { opset });
        expect(info.opset).toBe(opset);
        expect(maxRelativeError((await runOrtNode(bytes, x, shape)).data, ref), `opset ${opset}`).toBeLessThanOrEqual(1e-4);
      }
      const st = await exportOnnx(m, join(dir, 'static.onnx'), { static: { height: 21, width: 17 } });
      expect(st.inputShape).toEqual([1, 3, 21, 17]);
      expect(st.outputShape).toEqual([1, 3, 42, 34]);
      expect(maxRelativeError((await runOrtNode(join(dir, 'static.onnx'), x, shape)).data, ref)).toBeLessThanOrEqual(1e-4);
      await expect(runOrtNode(join(dir, 'static.onnx'), seededInput(6, [1, 3, 20, 17]), [1, 3, 20, 17])).rejects.toThrow();
    } finally {
      m.dispose();
    }
  });

  it('writes the ops the docs promise, and the metadata', () => {
    const m = createModel({ scale: 4, channels: 8, nCpb: 1 }, { seed: 1 });
    try {
      const { bytes } = encodeOnnx(m);
      const p = onnx.ModelProto.decode(bytes);
      const nodes = p.graph!.node!;
      const attr = (n: (typeof nodes)[number], k: string) => n.attribute!.find((a) => a.name === k);
      const d2s = nodes.filter((n) => n.opType === 'DepthToSpace');
      expect(d2s.length).toBe(2);
      for (const n of d2s) expect(new TextDecoder().decode(attr(n, 'mode')!.s!)).toBe('CRD');
      const dil = nodes.filter((n) => n.opType === 'Conv' && n.name!.startsWith('mpfe.')).map((n) => Number(attr(n, 'dilations')!.ints![0]));
      expect(dil).toEqual([1, 1, 3, 6, 9]);
      for (const op of ['Selu', 'GlobalAveragePool', 'Relu', 'Sigmoid', 'Mul', 'Clip']) expect(nodes.some((n) => n.opType === op), op).toBe(true);
      const meta: Record<string, string> = Object.fromEntries(p.metadataProps.map((e) => [String(e.key), String(e.value)]));
      expect(meta).toMatchObject({ 'mpfnet.input': 'input', 'mpfnet.output': 'output', 'mpfnet.layout': 'NCHW', 'mpfnet.color': 'RGB', 'mpfnet.input_range': '[0, 1]', 'mpfnet.scale': '4' });
      expect(JSON.parse(meta['mpfnet.config'] ?? '')).toEqual(m.config);
      expect(p.graph!.input![0]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['N', 3, 'H', 'W']);
    } finally {
      m.dispose();
    }
  });
});

describe('models trained by PyTorch (test/fixtures/gen_onnx.py)', () => {
  for (const name of ['x4-tiny', 'x3-small', 'x2-nocross']) {
    it(`${name}: mpfnet export -> onnxruntime-node gives PyTorch's output; --fp16 ≥ 45 dB; ORT-web WASM agrees`, async () => {
      const ref = readSafetensors(fixture(`${name}.out.safetensors`)).tensors;
      const x = ref.get('input')!.data as Float32Array;
      const shape = ref.get('input')!.shape;
      const torchOut = ref.get('output')!.data as Float32Array;
      const file = join(dir, `${name}.onnx`);
      // Through the CLI, in-process: the command users run.
      expect(await main(['export', fixture(`${name}.safetensors`), '-o', file, '--no-clamp'])).toBe(0);
      const got = await runOrtNode(file, x, shape);
      expect(maxRelativeError(got.data, torchOut)).toBeLessThanOrEqual(1e-4);
      // And our own forward of the same file agrees with PyTorch too.
      const m = loadModel(fixture(`${name}.safetensors`));
      try {
        expect(maxRelativeError(ours(m, x, shape, false), torchOut)).toBeLessThanOrEqual(1e-4);
      } finally {
        m.dispose();
      }
      const clampedTorch = torchOut.map((v) => Math.min(1, Math.max(0, v)));
      expect(await main(['export', fixture(`${name}.safetensors`), '-o', join(dir, `${name}-16.onnx`), '--fp16', '--opset', '13'])).toBe(0);
      const half = await runOrtNode(join(dir, `${name}-16.onnx`), x, shape);
      const db = psnrFloat(half.data, clampedTorch);
      console.log(`${name}: --fp16 ${db.toFixed(1)} dB vs PyTorch fp32`);
      expect(db).toBeGreaterThanOrEqual(45);
      const web = await runOrtWeb(readFileSync(file), x, shape);
      expect(web.dims).toEqual(got.dims);
      expect(maxRelativeError(web.data, got.data)).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('bad input', () => {
  const ck = join(dir, 'small.safetensors');
  const small = () => createModel({ scale: 2, channels: 8, nCpb: 1 }, { seed: 9 });
  const noTemp = () => expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

  it('not a checkpoint, wrong format, missing file: errors name the file, nothing written', async () => {
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'this is not a safetensors file at all');
    await expect(exportOnnx(junk, join(dir, 'out1.onnx'))).rejects.toThrow(junk);
    const other = join(dir, 'other.safetensors');
    writeFileSync(other, encodeSafetensors({ w: { shape: [2], data: new Float32Array([0.5, 0.25]) } }, { format: 'something-else' }));
    await expect(exportOnnx(other, join(dir, 'out1.onnx'))).rejects.toThrow(/other\.safetensors is not an MPF-Net checkpoint/);
    await expect(exportOnnx(join(dir, 'missing.safetensors'), join(dir, 'out1.onnx'))).rejects.toThrow(/missing\.safetensors/);
    expect(existsSync(join(dir, 'out1.onnx'))).toBe(false);
    noTemp();
  });

  it('a training checkpoint needs --weights; model and ema export their own weights', async () => {
    const a = createModel({ scale: 2, channels: 8, nCpb: 1 }, { seed: 1 });
    const b = createModel({ scale: 2, channels: 8, nCpb: 1 }, { seed: 2 });
    const train = join(dir, 'train.safetensors');
    const entries = [...a.tensorData().map(([k, v]) => [`model.${k}`, v] as const), ...b.tensorData().map(([k, v]) => [`ema.${k}`, v] as const)];
    writeFileSync(train, encodeSafetensors(entries as never, { format: 'mpfnet-train', config: JSON.stringify(a.config) }));
    try {
      await expect(exportOnnx(train, join(dir, 't.onnx'))).rejects.toThrow(/train\.safetensors is a training checkpoint.*--weights/);
      expect(await main(['export', train, '-o', join(dir, 't.onnx')])).toBe(2);
      const shape = [1, 3, 16, 16];
      const x = seededInput(3, shape);
      for (const [w, m] of [['model', a], ['ema', b]] as const) {
        expect(await main(['export', train, '--weights', w, '-o', join(dir, `t-${w}.onnx`)])).toBe(0);
        expect(maxRelativeError((await runOrtNode(join(dir, `t-${w}.onnx`), x, shape)).data, ours(m, x, shape))).toBeLessThanOrEqual(1e-4);
      }
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('bad options and unwritable outputs: RangeError naming the value or path, no partial file', async () => {
    const m = small();
    await m.save(ck);
    try {
      await expect(exportOnnx(m, join(dir, 'o.onnx'), { opset: 10 })).rejects.toThrow(/opset 10 cannot be written.*>= 11.*DepthToSpace/);
      await expect(exportOnnx(m, join(dir, 'o.onnx'), { opset: 23 })).rejects.toThrow(/opset 23/);
      await expect(exportOnnx(m, join(dir, 'o.onnx'), { opset: 1.5 })).rejects.toThrow(TypeError);
      await expect(exportOnnx(m, join(dir, 'o.onnx'), { static: { height: 0, width: 8 } })).rejects.toThrow(/static.height/);
      await expect(exportOnnx(m, join(dir, 'o.onnx'), { weights: 'best' as never })).rejects.toThrow(/"best"/);
      const unwritable = join(dir, 'no-such-dir', 'o.onnx');
      await expect(exportOnnx(ck, unwritable)).rejects.toThrow(`cannot write ${unwritable}`);
      expect(await main(['export', ck, '-o', join(dir, 'o.onnx'), '--opset', '9'])).toBe(2);
      expect(await main(['export', ck, '-o', join(dir, 'o.onnx'), '--static', '12by12'])).toBe(2);
      expect(existsSync(join(dir, 'o.onnx'))).toBe(false);
      noTemp();
    } finally {
      m.dispose();
    }
  });
});

describe('float16 conversion', () => {
  it('rounds to nearest even, with subnormals, overflow and NaN', () => {
    const cases: [number, number][] = [[0, 0], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [1e9, 0x7c00], [2 ** -24, 1], [2 ** -25, 0], [3 * 2 ** -26, 1], [2 ** -14, 0x0400], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [Infinity, 0x7c00]];
    for (const [x, bits] of cases) expect(float32ToFloat16Bits(x), String(x)).toBe(bits);
    expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN)))).toBe(true);
    // Every half value round-trips; random floats land within half an ulp.
    for (let h = 0; h < 0x7c00; h++) expect(float32ToFloat16Bits(float16BitsToFloat32(h))).toBe(h);
  });
});
