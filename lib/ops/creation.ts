// Creating tensors: from data, constants and seeded random draws.
import { native } from '../../bindings/index.js';
import { Tensor, fromHandle, type DType, type Device } from '../tensor.js';
import { getDefaultGenerator, type Generator } from '../random.js';

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
  let flat: ArrayLike<number>;
  if (Array.isArray(data) && data.length > 0 && Array.isArray(data[0])) {
    const inferred: number[] = [];
    flat = flatten(data as NestedArray, inferred);
    shape ??= inferred;
  } else {
    flat = data as ArrayLike<number>;
    shape ??= [flat.length];
  }
  checkShape('tensor', shape);
  const arr = dtype === 'float64' ? toTyped(flat, Float64Array) : toTyped(flat, Float32Array);
  if (device === 'cpu') return finish(fromHandle(native.create('cpu', dtype, shape, arr)), opts);
  const cpu = fromHandle(native.create('cpu', dtype, shape, arr));
  try {
    return finish(cpu.to(device), opts);
  } finally {
    cpu.dispose();
  }
}

export type NestedArray = number[] | NestedArray[];

function flatten(a: NestedArray, shape: number[]): number[] {
  const out: number[] = [];
  const walk = (v: NestedArray | number, depth: number) => {
    if (typeof v === 'number') {
      out.push(v);
      return;
    }
    if (shape.length <= depth) shape.push(v.length);
    else if (shape[depth] !== v.length) throw new RangeError(`tensor: ragged nested array at depth ${depth}`);
    for (const e of v) walk(e, depth + 1);
  };
  walk(a, 0);
  return out;
}

function toTyped<A extends Float32Array | Float64Array>(d: ArrayLike<number>, C: { new (n: number): A; from(d: ArrayLike<number>): A }): A {
  if (d instanceof C) return d as A;
  return C.from(d);
}

export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  checkShape('full', shape);
  return finish(fromHandle(native.full(opts.device ?? 'cpu', opts.dtype ?? 'float32', shape, value)), opts);
}
export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}
export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}
export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, device: t.device, ...opts });
}
export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, device: t.device, ...opts });
}

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
