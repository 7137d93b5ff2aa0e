// Contrastive regularisation (docs/model.md §3): the one-layer loss, the whole term, its samples, SimCLR.
export { contrastiveLoss, infoNce, type ContrastiveLossOptions } from './contrastive.js';
export { ContrastiveRegularizer, type RegularizerOptions, type PositiveSpec, type NegativeSpec, type RegularizerStats } from './regularizer.js';
export {
  sharpenedSamples, blurredSamples, upsampledLR, teacherSamples, otherImages, drawSharpen, drawBlur, smoothKernel, DEFAULT_SHARPEN, DEFAULT_BLUR,
  type SharpenSpec, type SharpenType, type CrBlurSpec, type SampleSet, type SampleParams,
} from './samples.js';
export { ntXent, simclrView, resizedCropBox, drawJitter, colorJitter, SIMCLR_AUGMENT, type SimclrAugment, type JitterParams } from './simclr.js';
export { validateCrOptions, createCrTerm, POSITIVE_PRESETS, NEGATIVE_PRESETS, STAGE_START, type CrOptions } from './cr-term.js';
