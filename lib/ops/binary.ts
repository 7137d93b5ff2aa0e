// Elementwise binary ops with numpy broadcasting, each an autograd function. Kernels:
// native/cpu/binary.cc; the formulas, forward and backward side by side: native/common/binary_math.h.
// A number on either side is folded into a unary affine op where it fits (x + s, x * s, s - x,
// x / s) and otherwise becomes a one-element constant that broadcasts (s / x).
import { native } from '../../bindings/index.js';
import type { BinaryOpName } from '../../bindings/native.js';
import { isGradEnabled } from '../autograd/scope.js';
import { record } from '../autograd/tape.js';
import { fromHandle, fromHandleOrNull, type Tensor } from '../tensor.js';
import { checkFinite, checkTensor } from './check.js';
import { full } from './creation.js';
import { affine } from './unary.js';

function binary(op: BinaryOpName, a: Tensor, b: Tensor): Tensor {
  const same = sameShape(a, b);
  const y = fromHandle(native.binaryForward(a.device, op, a.handle, b.handle), same ? a : undefined);
  // Without broadcasting, a sum's inputs get its gradient itself (no copies; the tape counts holders).
  if (op === 'add' && same) return record(y, op, [a, b], (gy) => [a.requiresGrad ? gy : null, b.requiresGrad ? gy : null]);
  return record(y, op, [a, b], (gy) => {
    const [ga, gb] = native.binaryBackward(gy.device, op, a.handle, b.handle, gy.handle, a.requiresGrad, b.requiresGrad);
    return [fromHandleOrNull(ga, a), fromHandleOrNull(gb, b)];
  });
}

function sameShape(a: Tensor, b: Tensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/** An operand of a binary op: a tensor or a number. */
export type Operand = Tensor | number;

/** Validates the operands; returns which are numbers. */
function operands(op: BinaryOpName, a: Operand, b: Operand): 'tt' | 'ts' | 'st' {
  const an = typeof a === 'number';
  const bn = typeof b === 'number';
  if (an && bn) throw new TypeError(`${op}: at least one of 'a' and 'b' must be a Tensor, got two numbers`);
  if (an) checkFinite(op, 'a', a);
  else checkTensor(op, 'a', a);
  if (bn) checkFinite(op, 'b', b);
  else checkTensor(op, 'b', b);
  return an ? 'st' : bn ? 'ts' : 'tt';
}

/** A one-element constant shaped like a scalar operand of t (broadcasts to anything). */
function constant(t: Tensor, v: number): Tensor {
  return full([1], v, { dtype: t.dtype, device: t.device });
}

/** a + b with broadcasting; either may be a number. */
export function add(a: Operand, b: Operand): Tensor {
  const k = operands('add', a, b);
  if (k === 'ts') return affine(a as Tensor, 1, b as number);
  if (k === 'st') return affine(b as Tensor, 1, a as number);
  return binary('add', a as Tensor, b as Tensor);
}

/**
 * y += x in place (same shape, dtype and device; no broadcasting): a sum whose left operand is a
 * temporary nothing else reads, without a new tensor (one stream of memory fewer than add: 0.60 →
 * 0.42 ms for a 52 × 256² map on 2 threads). Not differentiable: call it with the tape off (noGrad)
 * or on tensors that do not require a gradient.
 */
export function addInPlace(y: Tensor, x: Tensor): void {
  checkTensor('addInPlace', 'y', y);
  checkTensor('addInPlace', 'x', x);
  for (const [name, t] of [['y', y], ['x', x]] as const) if (t.isDisposed) throw new TypeError(`addInPlace: '${name}' was disposed`);
  if (isGradEnabled() && (y.requiresGrad || x.requiresGrad))
    throw new TypeError('addInPlace: writes in place and has no gradient; call it with the tape off (noGrad) or on tensors that do not require a gradient');
  native.axpyInPlace(y.device, y.handle, x.handle, 1);
}

/**
 * y = y · s + x in place, with y and x (N, C, H, W) and s (N, C) one scale per plane (CPU tensors):
 * a residual sum whose left operand still waits for its squeeze-excitation's scale (MPF-Net's
 * inference folds the scale in here instead of making a pass of its own over y). Not
 * differentiable: call it with the tape off (noGrad) or on tensors that do not require a gradient.
 */
export function scaleAddInPlace(y: Tensor, s: Tensor, x: Tensor): void {
  const args = [['y', y], ['s', s], ['x', x]] as const;
  for (const [name, t] of args) checkTensor('scaleAddInPlace', name, t);
  for (const [name, t] of args) if (t.isDisposed) throw new TypeError(`scaleAddInPlace: '${name}' was disposed`);
  if (isGradEnabled() && args.some(([, t]) => t.requiresGrad))
    throw new TypeError('scaleAddInPlace: writes in place and has no gradient; call it with the tape off (noGrad) or on tensors that do not require a gradient');
  native.scaleAddInPlace(y.device, y.handle, s.handle, x.handle);
}

/** a - b with broadcasting; either may be a number. */
export function sub(a: Operand, b: Operand): Tensor {
  const k = operands('sub', a, b);
  if (k === 'ts') return affine(a as Tensor, 1, -(b as number));
  if (k === 'st') return affine(b as Tensor, -1, a as number);
  return binary('sub', a as Tensor, b as Tensor);
}

/** a * b with broadcasting; either may be a number. */
export function mul(a: Operand, b: Operand): Tensor {
  const k = operands('mul', a, b);
  if (k === 'ts') return affine(a as Tensor, b as number, 0);
  if (k === 'st') return affine(b as Tensor, a as number, 0);
  return binary('mul', a as Tensor, b as Tensor);
}

/** a / b with broadcasting; either may be a number. */
export function div(a: Operand, b: Operand): Tensor {
  const k = operands('div', a, b);
  if (k === 'ts') {
    const inv = 1 / (b as number);
    // x / s as x * (1/s) (within an ulp of true division); s = 0 keeps IEEE's inf / nan.
    if (Number.isFinite(inv)) return affine(a as Tensor, inv, 0);
    return binary('div', a as Tensor, constant(a as Tensor, b as number));
  }
  if (k === 'st') return binary('div', constant(b as Tensor, a as number), b as Tensor);
  return binary('div', a as Tensor, b as Tensor);
}
