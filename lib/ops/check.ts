// Argument checks shared by the ops' TypeScript wrappers. The native bindings validate everything
// again; these catch what never reaches them (non-tensors, bad JS numbers) with the same kind of
// message: the op, the argument, the value.
import { Tensor } from '../tensor.js';

export function checkTensor(op: string, name: string, v: unknown): asserts v is Tensor {
  if (!(v instanceof Tensor)) throw new TypeError(`${op}: '${name}' must be a Tensor, got ${describe(v)}`);
}

export function checkFinite(op: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number') throw new TypeError(`${op}: '${name}' must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v)) throw new RangeError(`${op}: '${name}' must be finite, got ${v}`);
}

export function checkInt(op: string, name: string, v: unknown, min = -Infinity): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${op}: '${name}' must be an integer, got ${describe(v)}`);
  if (v < min) throw new RangeError(`${op}: '${name}' must be >= ${min}, got ${v}`);
}

/** dim in [-rank, rank) mapped to [0, rank). */
export function normDim(op: string, name: string, dim: unknown, rank: number): number {
  checkInt(op, name, dim);
  if (dim < -rank || dim >= rank) throw new RangeError(`${op}: '${name}' ${dim} is out of range for a ${rank}-D tensor (expected [${-rank}, ${rank - 1}])`);
  return dim < 0 ? dim + rank : dim;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return v.constructor?.name ?? 'an object';
  // Only primitives and functions are left here, which String() prints usefully.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return `${typeof v} ${String(v)}`;
}
