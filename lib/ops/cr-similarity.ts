// The per-pixel normalised similarity of contrastive regularisation (docs/model.md §3, PCL's), an autograd
// function. Kernels: native/cpu/cr_similarity.cc.
import { native } from '../../bindings/index.js';
import { record } from '../autograd/tape.js';
import { fromHandle, fromHandleOrNull, type Tensor } from '../tensor.js';
import { checkTensor } from './check.js';

/** torch.nn.functional.normalize's default: norms below it are clamped. */
export const CR_NORM_EPS = 1e-12;

/**
 * s (M): for each sample m of b (M, C, H, W), its similarity with anchor index[m] of a (N, C, H, W):
 * both L2-normalised along the channels at every pixel, multiplied, summed over the channels and
 * averaged over H×W. Gradients reach a and b.
 */
export function crSimilarity(a: Tensor, b: Tensor, index: readonly number[], eps = CR_NORM_EPS): Tensor {
  checkTensor('crSimilarity', 'a', a);
  checkTensor('crSimilarity', 'b', b);
  const idx = [...index];
  const s = fromHandle(native.crSimilarity(a.device, a.handle, b.handle, idx, eps));
  return record(s, 'crSimilarity', [a, b], (gs) => {
    const [ga, gb] = native.crSimilarityBackward(gs.device, a.handle, b.handle, idx, eps, gs.handle, a.requiresGrad, b.requiresGrad);
    return [fromHandleOrNull(ga), fromHandleOrNull(gb)];
  });
}

/**
 * The gradient of Σ_m gs[m]·s[m] with respect to the anchors only (no tape): what the contrastive
 * regulariser needs while the sample features are still alive.
 */
export function crSimilarityAnchorGrad(a: Tensor, b: Tensor, index: readonly number[], gs: Tensor, eps = CR_NORM_EPS): Tensor {
  const [ga] = native.crSimilarityBackward(a.device, a.handle, b.handle, [...index], eps, gs.handle, true, false);
  return fromHandle(ga!);
}
