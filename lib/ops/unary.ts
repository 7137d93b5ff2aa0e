// Elementwise unary ops, each an autograd function. Kernels: native/cpu/unary.cc; the formulas,
// forward and backward side by side: native/common/unary_math.h.
import { native } from '../../bindings/index.js';
import type { UnaryOpName } from '../../bindings/native.js';
import { record } from '../autograd/tape.js';
import { fromHandle, type Tensor } from '../tensor.js';

// Which of x (input) and y (output) each op's backward reads.
const NEEDS: Record<UnaryOpName, { x: boolean; y: boolean }> = {
  relu: { x: true, y: false },
  leakyRelu: { x: true, y: false },
  selu: { x: false, y: true },
  sigmoid: { x: false, y: true },
  tanh: { x: false, y: true },
  exp: { x: false, y: true },
  log: { x: true, y: false },
  sqrt: { x: false, y: true },
  abs: { x: true, y: false },
  square: { x: true, y: false },
  clamp: { x: true, y: false },
  affine: { x: false, y: false },
};

function unary(op: UnaryOpName, x: Tensor, p0 = 0, p1 = 0): Tensor {
  const y = fromHandle(native.unaryForward(x.device, op, x.handle, p0, p1), x);
  const need = NEEDS[op];
  return record(y, op, [x], (gy) => [
    fromHandle(native.unaryBackward(gy.device, op, need.x ? x.handle : null, need.y ? y.handle : null, gy.handle, p0, p1), x),
  ]);
}

/** max(x, 0). */
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** LeakyReLU with PyTorch's default slope 0.01. */
export const leakyRelu = (x: Tensor, negativeSlope = 0.01): Tensor => unary('leakyRelu', x, negativeSlope);
/** SELU, with PyTorch's constants. */
export const selu = (x: Tensor): Tensor => unary('selu', x);
/** The logistic sigmoid, 1 / (1 + e^−x). */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** The hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/** e^x. */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** The natural logarithm. */
export const log = (x: Tensor): Tensor => unary('log', x);
/** The square root. */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** |x|. */
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** x². */
export const square = (x: Tensor): Tensor => unary('square', x);
/** Clamp to [min, max]; the gradient passes where min <= x <= max, as in PyTorch. */
export function clamp(x: Tensor, min = -Infinity, max = Infinity): Tensor {
  if (Number.isNaN(min) || Number.isNaN(max)) throw new RangeError(`clamp: bounds must not be NaN, got [${min}, ${max}]`);
  if (min > max) throw new RangeError(`clamp: min ${min} is greater than max ${max}`);
  return unary('clamp', x, Math.max(min, -Number.MAX_VALUE), Math.min(max, Number.MAX_VALUE));
}
/** a * x + b with scalars a, b. */
export const affine = (x: Tensor, a: number, b = 0): Tensor => unary('affine', x, a, b);
/** x * s for a scalar s. */
export const mulScalar = (x: Tensor, s: number): Tensor => unary('affine', x, s, 0);
/** x + s for a scalar s. */
export const addScalar = (x: Tensor, s: number): Tensor => unary('affine', x, 1, s);
/** −x. */
export const neg = (x: Tensor): Tensor => unary('affine', x, -1, 0);
