// Matrix products as autograd functions. Kernels: native/cpu/matmul.cc over the SGEMM driver
// (native/cpu/gemm*.cc) in float32 and plain loops in float64.
import { native } from '../../bindings/index.js';
import { record } from '../autograd/tape.js';
import { fromHandle, fromHandleOrNull, type Tensor } from '../tensor.js';
import { checkTensor } from './check.js';

/** a (M, K) · b (K, N) -> (M, N). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor('matmul', 'a', a);
  checkTensor('matmul', 'b', b);
  const c = fromHandle(native.matmulForward(a.device, a.handle, b.handle));
  return record(c, 'matmul', [a, b], (gc) => {
    const r = native.matmulBackward(gc.device, a.handle, b.handle, gc.handle, a.requiresGrad, b.requiresGrad);
    return [fromHandleOrNull(r.ga), fromHandleOrNull(r.gb)];
  });
}

/**
 * x · weight^T + bias, like torch.nn.functional.linear: x (..., in), weight (out, in), bias (out)
 * -> (..., out). Leading dimensions of x are rows of one product; nothing is reshaped or copied.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  checkTensor('linear', 'x', x);
  checkTensor('linear', 'weight', weight);
  const b = bias ?? null;
  if (b !== null) checkTensor('linear', 'bias', b);
  const y = fromHandle(native.linearForward(x.device, x.handle, weight.handle, b?.handle ?? null));
  return record(y, 'linear', [x, weight, b], (gy) => {
    const r = native.linearBackward(gy.device, x.handle, weight.handle, gy.handle, x.requiresGrad, weight.requiresGrad, b?.requiresGrad ?? false);
    return [fromHandleOrNull(r.gx), fromHandleOrNull(r.gw), fromHandleOrNull(r.gb)];
  });
}
