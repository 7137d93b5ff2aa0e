// The Adam / AdamW update as one in-place native call per parameter (native/cpu/adam.cc), the
// building block of lib/optim/adam.ts.
import { native } from '../../bindings/index.js';
import type { Tensor } from '../tensor.js';
import { checkInt, checkTensor } from './check.js';

/** Options of {@link adamUpdate}. */
export interface AdamUpdateOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** The 1-based step count (PyTorch's state['step'] after its increment). */
  step: number;
  /** AdamW: decay the parameter (param *= 1 - lr * weightDecay) instead of adding L2 to the gradient. */
  decoupled?: boolean;
}

/**
 * One step of torch.optim.Adam (or AdamW with decoupled) on one parameter, in place on param,
 * expAvg (first moment) and expAvgSq (second moment). Defaults: beta1 0.9, beta2 0.999, eps 1e-8,
 * weightDecay 0.
 */
export function adamUpdate(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, o: AdamUpdateOptions): void {
  checkTensor('adamUpdate', 'param', param);
  checkTensor('adamUpdate', 'grad', grad);
  checkTensor('adamUpdate', 'expAvg', expAvg);
  checkTensor('adamUpdate', 'expAvgSq', expAvgSq);
  checkInt('adamUpdate', 'step', o.step, 1);
  native.adamUpdate(param.device, param.handle, grad.handle, expAvg.handle, expAvgSq.handle, o.lr, o.beta1 ?? 0.9, o.beta2 ?? 0.999, o.eps ?? 1e-8, o.weightDecay ?? 0, o.step, o.decoupled ?? false);
}
