// safetensors, read and written here (https://github.com/huggingface/safetensors, format only):
//   8 bytes   little-endian u64 N, the header's length
//   N bytes   JSON: {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//             "__metadata__": {"<key>": "<string>"}}, optionally padded with spaces
//   rest      the tensors' raw little-endian bytes; offsets are relative to the end of the header
// Files come from users, so the reader trusts nothing: every check names the file, the tensor and
// the offending value, and the byte buffer must be covered exactly once (no gaps, no overlaps),
// as the reference implementation requires.
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { writeFileAtomic, writeFileAtomicSync } from './atomic-write.js';

/** Header lengths above this are refused before reading them (the reference reader's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** A corrupt or unsupported safetensors file (a RangeError: bad input, not a bug). */
export class SafetensorsError extends RangeError {
  override name = 'SafetensorsError';
}

/** A tensor as stored: float32 or float64 data, row-major. */
export interface TensorRecord {
  /** The dtype the data has in memory now (F16 / BF16 files are widened to float32). */
  dtype: 'float32' | 'float64';
  /** The dtype written in the file (F32, F64, F16 or BF16). */
  fileDType: 'F32' | 'F64' | 'F16' | 'BF16';
  /** The shape as stored; [] is a scalar (one element). */
  shape: number[];
  data: Float32Array | Float64Array;
}

/** The tensors and metadata of a safetensors file. */
export interface SafetensorsContents {
  /** Tensors in the order of their data in the file. */
  tensors: Map<string, TensorRecord>;
  metadata: Record<string, string>;
}

/** What writeSafetensors takes per tensor: its shape and float32 or float64 data. */
export interface TensorData {
  shape: readonly number[];
  data: Float32Array | Float64Array;
}

const ITEM_SIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, U16: 2, U32: 4, U64: 8, F8_E4M3: 1, F8_E5M2: 1 };
const READABLE = new Set(['F32', 'F64', 'F16', 'BF16']);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(source: string, msg: string): never {
  throw new SafetensorsError(`safetensors: ${source}: ${msg}`);
}

/** Serialise tensors (in the given order) and string metadata to safetensors bytes. */
export function encodeSafetensors(tensors: Iterable<[string, TensorData]> | Record<string, TensorData>, metadata: Record<string, string> = {}): Uint8Array {
  const entries = Symbol.iterator in Object(tensors) ? [...(tensors as Iterable<[string, TensorData]>)] : Object.entries(tensors as Record<string, TensorData>);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`safetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const seen = new Set<string>();
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new TypeError(`safetensors: '__metadata__' is reserved and cannot name a tensor`);
    if (seen.has(name)) throw new TypeError(`safetensors: duplicate tensor name '${name}'`);
    seen.add(name);
    const dtype = t.data instanceof Float64Array ? 'F64' : t.data instanceof Float32Array ? 'F32' : null;
    if (!dtype) throw new TypeError(`safetensors: tensor '${name}' data must be a Float32Array or Float64Array`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new RangeError(`safetensors: tensor '${name}' has an invalid shape [${t.shape.join(', ')}]`);
    if (numel !== t.data.length) throw new RangeError(`safetensors: tensor '${name}' shape [${t.shape.join(', ')}] holds ${numel} elements but its data has ${t.data.length}`);
    const bytes = t.data.byteLength;
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned (float64 views need no copy then).
  const raw = new TextEncoder().encode(json);
  const pad = (8 - ((8 + raw.length) % 8)) % 8;
  if (pad) json += ' '.repeat(pad);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, t] of entries) {
    const b = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (LITTLE_ENDIAN) out.set(b, at);
    else writeLE(out, at, t.data);
    at += t.data.byteLength;
  }
  return out;
}

function writeLE(out: Uint8Array, at: number, d: Float32Array | Float64Array): void {
  const dv = new DataView(out.buffer, out.byteOffset);
  const f64 = d instanceof Float64Array;
  for (let i = 0; i < d.length; i++) {
    if (f64) dv.setFloat64(at + i * 8, d[i]!, true);
    else dv.setFloat32(at + i * 4, d[i]!, true);
  }
}

interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Parse and validate safetensors bytes. `source` names the file in errors. */
export function decodeSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContents {
  const { entries, metadata, dataStart } = parseHeader(bytes, source);
  const tensors = new Map<string, TensorRecord>();
  for (const e of entries) {
    if (!READABLE.has(e.dtype)) fail(source, `tensor '${e.name}' has dtype ${e.dtype}; only F32, F64, F16 and BF16 can be read`);
    tensors.set(e.name, toRecord(bytes, dataStart, e));
  }
  return { tensors, metadata };
}

/** Validate a header and the coverage of the data; returns entries sorted by offset. */
function parseHeader(bytes: Uint8Array, source: string, fileLength = bytes.length): { entries: HeaderEntry[]; metadata: Record<string, string>; dataStart: number } {
  if (fileLength < 8) fail(source, `truncated: ${fileLength} bytes, but the 8-byte header length alone needs 8`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(source, `header length ${n64} exceeds the limit of ${MAX_HEADER_BYTES} bytes (corrupt, or not a safetensors file)`);
  const n = Number(n64);
  if (8 + n > fileLength) fail(source, `truncated: the header claims ${n} bytes but only ${fileLength - 8} follow the length field`);
  if (n < 2) fail(source, `header length ${n} is too small to hold a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail(source, `the header (bytes 8..${8 + n}) is not valid UTF-8`);
  }
  if (text[0] !== '{') fail(source, `the header must start with '{', found ${JSON.stringify(text.slice(0, 16))} (not a safetensors file?)`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(source, `the header (bytes 8..${8 + n}) is not valid JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail(source, 'the header must be a JSON object');
  const dataStart = 8 + n;
  const dataLen = fileLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(source, '__metadata__ must be an object of strings');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') fail(source, `__metadata__ '${k}' must be a string, got ${JSON.stringify(s)}`);
        metadata[k] = s;
      }
      continue;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(source, `tensor '${name}': entry must be an object with dtype, shape and data_offsets`);
    const { dtype, shape, data_offsets: off, ...rest } = v as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length) fail(source, `tensor '${name}': unknown field '${extra[0]}'`);
    if (typeof dtype !== 'string' || !(dtype in ITEM_SIZE)) fail(source, `tensor '${name}': unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(source, `tensor '${name}': shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(source, `tensor '${name}': data_offsets must be two non-negative integers, got ${JSON.stringify(off)}`);
    const [begin, end] = off as [number, number];
    if (end < begin) fail(source, `tensor '${name}': data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) fail(source, `tensor '${name}': data_offsets [${begin}, ${end}] reach beyond the data (${dataLen} bytes${dataLen < end ? '; the file is truncated?' : ''})`);
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const want = numel * ITEM_SIZE[dtype]!;
    if (want !== end - begin) fail(source, `tensor '${name}': shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${want} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: HeaderEntry | null = null;
  for (const e of entries) {
    if (prev && e.begin < at) fail(source, `tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap tensor '${prev.name}' [${prev.begin}, ${prev.end}]`);
    if (e.begin > at) fail(source, `bytes ${at}..${e.begin} of the data belong to no tensor (before '${e.name}'): data must be contiguous`);
    at = e.end;
    prev = e;
  }
  if (at !== dataLen) fail(source, `the data has ${dataLen} bytes but the tensors cover ${at}: ${dataLen - at} trailing bytes belong to no tensor`);
  return { entries, metadata, dataStart };
}

function toRecord(bytes: Uint8Array, dataStart: number, e: HeaderEntry): TensorRecord {
  const start = bytes.byteOffset + dataStart + e.begin;
  const len = e.end - e.begin;
  const fileDType = e.dtype as TensorRecord['fileDType'];
  const numel = len / ITEM_SIZE[e.dtype]!;
  const dv = new DataView(bytes.buffer, start, len);
  if (fileDType === 'F32' || fileDType === 'F64') {
    const f64 = fileDType === 'F64';
    const size = f64 ? 8 : 4;
    let data: Float32Array | Float64Array;
    if (LITTLE_ENDIAN) {
      // Copy: the file buffer may be unaligned and must not be kept alive by a view.
      // (Uint8Array's slice copies; Buffer's would return a view of the whole pool.)
      const copy = Uint8Array.prototype.slice.call(bytes, dataStart + e.begin, dataStart + e.end);
      data = f64 ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer);
    } else {
      data = f64 ? new Float64Array(numel) : new Float32Array(numel);
      for (let i = 0; i < numel; i++) data[i] = f64 ? dv.getFloat64(i * size, true) : dv.getFloat32(i * size, true);
    }
    return { dtype: f64 ? 'float64' : 'float32', fileDType, shape: [...e.shape], data };
  }
  const data = new Float32Array(numel);
  if (fileDType === 'BF16') {
    const u = new Uint32Array(1);
    const f = new Float32Array(u.buffer);
    for (let i = 0; i < numel; i++) {
      u[0] = dv.getUint16(i * 2, true) << 16;
      data[i] = f[0]!;
    }
  } else {
    for (let i = 0; i < numel; i++) data[i] = halfToFloat(dv.getUint16(i * 2, true));
  }
  return { dtype: 'float32', fileDType, shape: [...e.shape], data };
}

/** IEEE 754 binary16 to a number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Read and validate a safetensors file. */
export function readSafetensors(path: string): SafetensorsContents {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw new SafetensorsError(`safetensors: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (size > 2 ** 31 - 1) fail(path, `file of ${size} bytes is larger than this reader handles (2 GiB)`);
  return decodeSafetensors(readFileSync(path), path);
}

/** Only the header of a file: names, dtypes, shapes and metadata, without reading the data. */
export function readSafetensorsHeader(path: string): { metadata: Record<string, string>; tensors: { name: string; dtype: string; shape: number[] }[] } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new SafetensorsError(`safetensors: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let bytes: Uint8Array;
  let size: number;
  try {
    size = fstatSync(fd).size;
    const lenBytes = new Uint8Array(8);
    readSync(fd, lenBytes, 0, 8, 0);
    const n = size >= 8 ? Number(new DataView(lenBytes.buffer).getBigUint64(0, true)) : 0;
    const want = Math.min(size, 8 + Math.min(n, MAX_HEADER_BYTES + 1));
    bytes = new Uint8Array(want);
    readSync(fd, bytes, 0, want, 0);
  } finally {
    closeSync(fd);
  }
  const { entries, metadata } = parseHeader(bytes, path, size);
  return { metadata, tensors: entries.map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape })) };
}

/** Write tensors and metadata atomically (a temporary file, synced, then renamed over `path`). */
export async function writeSafetensors(path: string, tensors: Iterable<[string, TensorData]> | Record<string, TensorData>, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** writeSafetensors without awaiting (no fsync; still atomic against crashes of this process). */
export function writeSafetensorsSync(path: string, tensors: Iterable<[string, TensorData]> | Record<string, TensorData>, metadata: Record<string, string> = {}): void {
  writeFileAtomicSync(path, encodeSafetensors(tensors, metadata));
}
