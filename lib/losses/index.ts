// Contrastive regularisation's building blocks (docs/model.md §3): the one-layer loss, the regulariser, its
// samples, SimCLR. The 'cr' loss term that the trainer combines is lib/train/loss-terms/cr.ts.
export { contrastiveLoss, infoNce, type ContrastiveLossOptions } from './contrastive.js';
export { ContrastiveRegularizer, type RegularizerOptions, type PositiveSpec, type NegativeSpec, type RegularizerStats } from './regularizer.js';
export {
  sharpenedSamples, blurredSamples, upsampledLR, teacherSamples, otherImages, drawSharpen, drawBlur, smoothKernel, DEFAULT_SHARPEN, DEFAULT_BLUR,
  type SharpenSpec, type SharpenType, type CrBlurSpec, type SampleSet, type SampleParams,
} from './samples.js';
export { ntXent, simclrView, resizedCropBox, drawJitter, colorJitter, SIMCLR_AUGMENT, type SimclrAugment, type JitterParams } from './simclr.js';
