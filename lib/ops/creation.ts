// Creating tensors: from data, constants and seeded random draws.
import { native } from '../../bindings/index.js';
import { Tensor, fromHandle, type DType, type Device } from '../tensor.js';
import { getDefaultGenerator, type Generator } from '../random.js';

/** Options of tensor creation: dtype, device, requiresGrad. */
export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

function finish(t: Tensor, o: TensorOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad = true;
  return t;
}

function checkShape(fn: string, shape: readonly number[]): void {
  if (!Array.isArray(shape)) throw new TypeError(`${fn}: 'shape' must be an array of integers, got ${String(shape)}`);
}

/**
 * A tensor from data (a flat typed array or number array, or nested arrays) and a shape.
 * When shape is omitted it is inferred from nested arrays.
 */
export function tensor(data: ArrayLike<number> | NestedArray, shape?: readonly number[], opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'float32';
  const device = opts.device ?? 'cpu';
  const { flat, inferred } = flatData(data);
  shape ??= inferred;
  checkShape('tensor', shape);
  const arr = dtype === 'float64' ? toTyped(flat, Float64Array) : toTyped(flat, Float32Array);
  // The addon copies the data straight to the device (a host-to-GPU copy for 'cuda').
  return finish(fromHandle(native.create(device, dtype, shape, arr)), opts);
}

/** Numbers nested in arrays, as {@link tensor} takes them. */
export type NestedArray = number[] | NestedArray[];

// Only primitives and functions reach String(), which prints them usefully.
const describeValue = (v: unknown): string =>
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? `a ${v.constructor?.name ?? 'object'}` : `${typeof v} ${String(v)}`;

/**
 * tensor()'s data as one flat list of numbers, and the shape nested arrays imply. Anything that is not
 * a number is a TypeError (Float32Array.from would turn it into NaN without a word); nested arrays
 * whose lengths or depths differ are a RangeError.
 */
function flatData(data: unknown): { flat: ArrayLike<number>; inferred: number[] } {
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    if (data instanceof BigInt64Array || data instanceof BigUint64Array)
      throw new TypeError(`tensor: 'data' must hold numbers, got a ${data.constructor.name}`);
    const flat = data as unknown as ArrayLike<number>;
    return { flat, inferred: [flat.length] };
  }
  if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<unknown>).length !== 'number')
    throw new TypeError(`tensor: 'data' must be an array of numbers, nested arrays or a typed array, got ${describeValue(data)}`);
  const top = Array.isArray(data) ? (data as unknown[]) : Array.from(data as ArrayLike<unknown>);
  // The first path down fixes the shape; every other entry has to agree with it.
  const shape: number[] = [];
  for (let v: unknown = top; Array.isArray(v); v = v[0]) shape.push(v.length);
  const out: number[] = [];
  const where = (idx: number[]) => `'data${idx.map((i) => `[${i}]`).join('')}'`;
  const idx: number[] = [];
  const walk = (v: unknown[], depth: number): void => {
    if (v.length !== shape[depth])
      throw new RangeError(`tensor: ragged nested array: ${where(idx)} has ${v.length} entries where ${shape[depth]} were expected`);
    const leaf = depth === shape.length - 1;
    for (let i = 0; i < v.length; i++) {
      const e = v[i];
      if (leaf && typeof e === 'number') {
        out.push(e);
        continue;
      }
      idx.push(i);
      if (leaf || !Array.isArray(e)) {
        if (Array.isArray(e) || typeof e === 'number')
          throw new RangeError(`tensor: ragged nested array: ${where(idx)} is ${describeValue(e)} at depth ${depth + 1} of ${shape.length}`);
        throw new TypeError(`tensor: ${where(idx)} must be a number, got ${describeValue(e)}`);
      }
      walk(e, depth + 1);
      idx.pop();
    }
  };
  walk(top, 0);
  return { flat: out, inferred: shape };
}

function toTyped<A extends Float32Array | Float64Array>(d: ArrayLike<number>, C: { new (n: number): A; from(d: ArrayLike<number>): A }): A {
  if (d instanceof C) return d;
  return C.from(d);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  checkShape('full', shape);
  return finish(fromHandle(native.full(opts.device ?? 'cpu', opts.dtype ?? 'float32', shape, value)), opts);
}
/**
 * A tensor of `shape` whose values are not set: whatever its memory held (PyTorch's torch.empty). For
 * outputs written in full before anything reads them, which then skip zeros' pass over memory (218 MB
 * for the last upsampler stage of a 256² ×4 upscale).
 */
export function empty(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  checkShape('empty', shape);
  return finish(fromHandle(native.create(opts.device ?? 'cpu', opts.dtype ?? 'float32', shape, null, true)), opts);
}
/** A tensor of `shape` filled with zeros. */
export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}
/** A tensor of `shape` filled with ones. */
export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}
/** Zeros with the shape (and, unless given, dtype and device) of `t`. */
export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, device: t.device, ...opts });
}
/** Ones with the shape (and, unless given, dtype and device) of `t`. */
export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, device: t.device, ...opts });
}

/** Options of random tensors: a generator, and the distribution's parameters. */
export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

/** Uniform in [low, high) (default [0, 1)), from the default or the given seeded generator. */
export function rand(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checkShape('rand', shape);
  const g = opts.generator ?? getDefaultGenerator();
  const n = shape.reduce((a, b) => a * b, 1);
  const h = native.randUniform(opts.device ?? 'cpu', opts.dtype ?? 'float32', shape, g.seed, g.offset, opts.low ?? 0, opts.high ?? 1);
  g.take(n);
  return finish(fromHandle(h), opts);
}

/** Normal with the given mean and std (default 0, 1), from a seeded generator. */
export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  checkShape('randn', shape);
  const g = opts.generator ?? getDefaultGenerator();
  const n = shape.reduce((a, b) => a * b, 1);
  const h = native.randNormal(opts.device ?? 'cpu', opts.dtype ?? 'float32', shape, g.seed, g.offset, opts.mean ?? 0, opts.std ?? 1);
  g.take(n);
  return finish(fromHandle(h), opts);
}
