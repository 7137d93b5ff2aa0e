// Losses, each an autograd function returning shape [1]. Kernels: native/cpu/loss.cc.
import { native } from '../../bindings/index.js';
import type { Reduction } from '../../bindings/native.js';
import { record } from '../autograd/tape.js';
import { fromHandle, fromHandleOrNull, type Tensor } from '../tensor.js';
import { checkTensor } from './check.js';

/**
 * mean (or sum) of |pred - target| (same shapes). The gradient is sign(pred - target) / N, and 0
 * where pred equals target, as in PyTorch.
 */
export function l1Loss(pred: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkTensor('l1Loss', 'pred', pred);
  checkTensor('l1Loss', 'target', target);
  const y = fromHandle(native.l1Loss(pred.device, pred.handle, target.handle, reduction));
  return record(y, 'l1Loss', [pred, target], (gy) => {
    const [gp, gt] = native.l1LossBackward(gy.device, pred.handle, target.handle, gy.handle, reduction, pred.requiresGrad, target.requiresGrad);
    return [fromHandleOrNull(gp), fromHandleOrNull(gt)];
  });
}
