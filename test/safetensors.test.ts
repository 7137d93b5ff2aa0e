// safetensors reader and writer (lib/io/safetensors.ts): round trips, and every kind of corrupt
// file gives a SafetensorsError naming what is wrong and where.
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MAX_HEADER_BYTES,
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  halfToFloat,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
  writeSafetensorsSync,
} from '../lib/io/safetensors.js';

const dir = mkdtempSync(join(tmpdir(), 'mpfnet-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file from a header object and raw data bytes. */
function build(header: unknown, data: Uint8Array | number = 0, pad = ''): Uint8Array {
  const json = new TextEncoder().encode((typeof header === 'string' ? header : JSON.stringify(header)) + pad);
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

const sample = () => ({
  'a.weight': { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 4, 5, 6e-8]) },
  'b.bias': { shape: [4], data: Float64Array.from([Math.PI, -0, 1e300, 7]) },
});

function expectError(bytes: Uint8Array, pattern: RegExp): void {
  let err: unknown;
  try {
    decodeSafetensors(bytes, 'x.safetensors');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SafetensorsError);
  expect(err).toBeInstanceOf(RangeError);
  expect((err as Error).message).toMatch(/^safetensors: x\.safetensors: /);
  expect((err as Error).message).toMatch(pattern);
}

describe('safetensors', () => {
  it('round-trips float32 and float64 tensors, order and metadata', () => {
    const bytes = encodeSafetensors(Object.entries(sample()), { format: 'mpfnet', config: '{"scale":4}' });
    // The header is padded so data starts 8-byte aligned.
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: 'mpfnet', config: '{"scale":4}' });
    expect([...tensors.keys()]).toEqual(['a.weight', 'b.bias']);
    const a = tensors.get('a.weight')!;
    expect(a.dtype).toBe('float32');
    expect(a.fileDType).toBe('F32');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual(Array.from(sample()['a.weight'].data));
    const b = tensors.get('b.bias')!;
    expect(b.dtype).toBe('float64');
    expect(Object.is(b.data[1], -0)).toBe(true);
    expect(Array.from(b.data)).toEqual(Array.from(sample()['b.bias'].data));
  });

  it('writes atomically to disk and reads back; the header reader needs no data', async () => {
    const p = join(dir, 'rt.safetensors');
    await writeSafetensors(p, sample(), { k: 'v' });
    expect(readSafetensors(p).tensors.get('b.bias')!.data[0]).toBe(Math.PI);
    const h = readSafetensorsHeader(p);
    expect(h.metadata).toEqual({ k: 'v' });
    expect(h.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([['a.weight', 'F32', [2, 3]], ['b.bias', 'F64', [4]]]);
    writeSafetensorsSync(p, { c: { shape: [1], data: Float32Array.of(9) } });
    expect([...readSafetensors(p).tensors.keys()]).toEqual(['c']);
    // No temporary files are left behind.
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('reads files written by the reference layout: unsorted keys, no padding, scalars, empty tensors', () => {
    const data = new Uint8Array(12);
    new DataView(data.buffer).setFloat32(0, 1.5, true);
    new DataView(data.buffer).setFloat64(4, -2.25, true);
    const f = build({ y: { dtype: 'F64', shape: [], data_offsets: [4, 12] }, x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, e: { dtype: 'F32', shape: [0, 3], data_offsets: [12, 12] } }, data);
    const { tensors } = decodeSafetensors(f);
    expect(tensors.get('x')!.data[0]).toBe(1.5);
    expect(tensors.get('y')!.shape).toEqual([]);
    expect(tensors.get('y')!.data[0]).toBe(-2.25);
    expect(tensors.get('e')!.data.length).toBe(0);
  });

  it('widens F16 and BF16 to float32', () => {
    const data = new Uint8Array(8);
    const dv = new DataView(data.buffer);
    dv.setUint16(0, 0x3c00, true); // F16 1
    dv.setUint16(2, 0xc000, true); // F16 -2
    dv.setUint16(4, 0x3f80, true); // BF16 1
    dv.setUint16(6, 0x4049, true); // BF16 3.140625
    const { tensors } = decodeSafetensors(build({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] } }, data));
    expect(Array.from(tensors.get('h')!.data)).toEqual([1, -2]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([1, 3.140625]);
    expect(tensors.get('h')!.fileDType).toBe('F16');
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  describe('rejects corrupt files with a clear message', () => {
    const good = () => encodeSafetensors(sample());
    it('shorter than the length field', () => expectError(new Uint8Array(5), /truncated: 5 bytes/));
    it('header length beyond the file', () => expectError(good().subarray(0, 40), /truncated: the header claims \d+ bytes but only 32 follow/));
    it('header length over the limit', () => {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES) + 1n, true);
      expectError(b, /header length 100000001 exceeds the limit of 100000000 bytes/);
    });
    it('absurd header length (2^64 - 1)', () => {
      const b = new Uint8Array(16).fill(0xff);
      expectError(b, /exceeds the limit/);
    });
    it('invalid JSON', () => expectError(build('{"a": {"dtype": "F32",'), /not valid JSON/));
    it('not an object', () => expectError(build('[1, 2]'), /must start with '\{'/));
    it('invalid UTF-8', () => {
      const b = build('{"a":1}');
      b[10] = 0xff;
      expectError(b, /not valid UTF-8/);
    });
    it('truncated data', () => {
      const g = good();
      expectError(g.subarray(0, g.length - 3), /tensor 'b\.bias': data_offsets \[24, 56\] reach beyond the data \(53 bytes; the file is truncated\?\)/);
    });
    it('unknown dtype', () => expectError(build({ a: { dtype: 'F33', shape: [1], data_offsets: [0, 4] } }, 4), /tensor 'a': unknown dtype "F33"/));
    it('dtype it cannot read', () => expectError(build({ a: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, 4), /tensor 'a' has dtype I32; only F32, F64, F16 and BF16/));
    it('shape and size mismatch', () => expectError(build({ a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, 20), /tensor 'a': shape \[2, 3\] of F32 needs 24 bytes but data_offsets \[0, 20\] hold 20/));
    it('negative or fractional shape', () => expectError(build({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /tensor 'a': shape must be an array of non-negative integers/));
    it('offsets ending before they begin', () => expectError(build({ a: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, 8), /end before they begin/));
    it('malformed offsets', () => expectError(build({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4), /data_offsets must be two non-negative integers/));
    it('overlapping tensors', () =>
      expectError(build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), /tensor 'b': data_offsets \[4, 12\] overlap tensor 'a' \[0, 8\]/));
    it('a gap between tensors', () =>
      expectError(build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12), /bytes 4\.\.8 of the data belong to no tensor \(before 'b'\)/));
    it('trailing bytes', () => expectError(build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 9), /the data has 9 bytes but the tensors cover 4: 5 trailing bytes/));
    it('unknown entry field', () => expectError(build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4], extra: 1 } }, 4), /tensor 'a': unknown field 'extra'/));
    it('non-string metadata', () => expectError(build({ __metadata__: { a: 1 } }), /__metadata__ 'a' must be a string/));
    it('an entry that is not an object', () => expectError(build({ a: 5 }), /tensor 'a': entry must be an object/));
  });

  it('names the file when reading from disk, and a missing file', () => {
    const p = join(dir, 'bad.safetensors');
    writeFileSync(p, new Uint8Array(3));
    expect(() => readSafetensors(p)).toThrow(new RegExp(`safetensors: ${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: truncated`));
    expect(() => readSafetensors(join(dir, 'nope.safetensors'))).toThrow(/cannot read .*nope\.safetensors: ENOENT/);
    expect(() => readSafetensorsHeader(p)).toThrow(SafetensorsError);
  });

  it('refuses to write bad input', () => {
    expect(() => encodeSafetensors({ a: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(/shape \[2, 2\] holds 4 elements but its data has 3/);
    expect(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).toThrow(/reserved/);
    expect(() => encodeSafetensors({ a: { shape: [1], data: new Int32Array(1) as unknown as Float32Array } })).toThrow(/Float32Array or Float64Array/);
    expect(() => encodeSafetensors({}, { a: 1 as unknown as string })).toThrow(/metadata 'a' must be a string/);
  });

  it('is byte-identical to a file the reference writer would produce for the same layout', () => {
    // The reference writer emits compact JSON, data in header order and pads with spaces to 8.
    const bytes = encodeSafetensors({ w: { shape: [1], data: Float32Array.of(1) } });
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))));
    expect(text.trimEnd()).toBe('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
    expect(Array.from(bytes.subarray(bytes.length - 4))).toEqual([0, 0, 128, 63]);
  });
});
