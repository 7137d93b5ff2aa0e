// Fused squeeze-and-excitation as one autograd function. Kernels: native/cpu/squeeze_excite.cc and
// native/cuda/squeeze_excite.cu (2 passes forward, 3 backward, instead of the composite's
// mean / linear / relu / linear / sigmoid / mul ops and their backwards).
import { native } from '../../bindings/index.js';
import { isGradEnabled } from '../autograd/scope.js';
import { record } from '../autograd/tape.js';
import { fromHandle, fromHandleOrNull, type Tensor } from '../tensor.js';
import { checkTensor } from './check.js';

/**
 * Squeeze-and-excitation in one op: with m the mean of x (N, C, H, W) over H and W,
 * y = x · sigmoid(linear(relu(linear(m, w1, b1)), w2, b2)) per channel.
 * w1 is (hidden, C), w2 (C, hidden), biases (hidden) and (C) or null. Equal to the composite
 * (mean, linear, relu, linear, sigmoid, mul) up to rounding. On CUDA, C and hidden are at most 1024.
 * `means` (N, C), optional: m when the caller already has it (conv2dWithMeans made it with x), so
 * the pooling pass over x is skipped; it must be x's spatial mean (the backward relies on it).
 */
export function squeezeExcite(x: Tensor, w1: Tensor, b1: Tensor | null, w2: Tensor, b2: Tensor | null, means: Tensor | null = null): Tensor {
  checkTensor('squeezeExcite', 'x', x);
  checkTensor('squeezeExcite', 'w1', w1);
  checkTensor('squeezeExcite', 'w2', w2);
  if (b1 !== null) checkTensor('squeezeExcite', 'b1', b1);
  if (b2 !== null) checkTensor('squeezeExcite', 'b2', b2);
  if (means !== null) checkTensor('squeezeExcite', 'means', means);
  const r = native.squeezeExciteForward(x.device, x.handle, w1.handle, b1?.handle ?? null, w2.handle, b2?.handle ?? null, means?.handle ?? null);
  const y = fromHandle(r.y!, x);
  const m = r.m === null ? means! : fromHandle(r.m, { shape: x.shape.slice(0, 2), dtype: x.dtype, device: x.device });  // the spatial mean, kept for the backward
  return record(y, 'squeezeExcite', [x, w1, b1, w2, b2], (gy) => {
    const need = [x, w1, b1, w2, b2].map((t) => (t?.requiresGrad ? 1 : 0));
    const g = native.squeezeExciteBackward(gy.device, x.handle, m.handle, w1.handle, b1?.handle ?? null, w2.handle, b2?.handle ?? null, gy.handle, need);
    return [fromHandleOrNull(g.gx, x), fromHandleOrNull(g.gw1, w1), fromHandleOrNull(g.gb1, b1), fromHandleOrNull(g.gw2, w2), fromHandleOrNull(g.gb2, b2)];
  });
}

/**
 * {@link squeezeExcite} written into x itself (CPU tensors): x = x · s per channel, no new map and
 * one memory stream fewer (for a 52 × 256² map on 2 threads: see docs/performance.md, "Residual sums
 * and squeeze-excitation at inference"). Not differentiable: call it with the tape off
 * (noGrad) or on tensors that do not require a gradient. `means` as in squeezeExcite.
 */
export function squeezeExciteInPlace(x: Tensor, w1: Tensor, b1: Tensor | null, w2: Tensor, b2: Tensor | null, means: Tensor | null = null): void {
  // [name, tensor, required]: w1 and w2 must be tensors (a null one must not reach `.handle`).
  const args = [['x', x, true], ['w1', w1, true], ['b1', b1, false], ['w2', w2, true], ['b2', b2, false], ['means', means, false]] as const;
  for (const [name, t, required] of args) if (required || t !== null) checkTensor('squeezeExciteInPlace', name, t);
  for (const [name, t] of args) if (t?.isDisposed) throw new TypeError(`squeezeExciteInPlace: '${name}' was disposed`);
  if (x.device !== 'cpu') throw new TypeError(`squeezeExciteInPlace: 'x' must be a CPU tensor (the CUDA kernel does not scale in place), got one on ${x.device}`);
  if (isGradEnabled() && [x, w1, b1, w2, b2].some((t) => t?.requiresGrad))
    throw new TypeError('squeezeExciteInPlace: writes in place and has no gradient; call it with the tape off (noGrad) or on tensors that do not require a gradient');
  const r = native.squeezeExciteForward(x.device, x.handle, w1.handle, b1?.handle ?? null, w2.handle, b2?.handle ?? null, means?.handle ?? null, true);
  if (r.m !== null) fromHandle(r.m).dispose();
}

/**
 * The squeeze-excitation's channel scales alone, s = sigmoid(linear(relu(linear(means, w1, b1)), w2, b2)),
 * (N, C) from the spatial means (N, C) of the map they would scale (CPU tensors). MPF-Net's inference
 * folds s into what reads the map (the next convolutions' weights, the residual sum: scaleAddInPlace)
 * instead of scaling it. Not differentiable: call it with the tape off (noGrad).
 */
export function squeezeExciteScales(means: Tensor, w1: Tensor, b1: Tensor | null, w2: Tensor, b2: Tensor | null): Tensor {
  const args = [['means', means, true], ['w1', w1, true], ['b1', b1, false], ['w2', w2, true], ['b2', b2, false]] as const;
  for (const [name, t, required] of args) if (required || t !== null) checkTensor('squeezeExciteScales', name, t);
  for (const [name, t] of args) if (t?.isDisposed) throw new TypeError(`squeezeExciteScales: '${name}' was disposed`);
  if (isGradEnabled() && [means, w1, b1, w2, b2].some((t) => t?.requiresGrad))
    throw new TypeError('squeezeExciteScales: has no gradient; call it with the tape off (noGrad) or on tensors that do not require a gradient');
  return fromHandle(native.squeezeExciteScales(means.device, means.handle, w1.handle, b1?.handle ?? null, w2.handle, b2?.handle ?? null));
}
