// Image quality metrics with the MATLAB / BasicSR conventions (docs/model.md §4), so numbers compare with
// published tables: PSNR, SSIM, NIQE (no reference) and LPIPS (weights supplied by the user).
export { toPlanes, cropBorder, type Planes, type MetricInput } from './planes.js';
export { rgbToY } from './color.js';
export { psnr, psnrPlanes, type PairMetricOptions } from './psnr.js';
export { ssim, ssimPlanes, ssimPerChannel } from './ssim.js';
export { niqe, niqeOfGrey, type NiqeOptions } from './niqe.js';
export { LPIPS, lpipsParameterShapes, LPIPS_CHANNELS, type LpipsNet, type LpipsLoadOptions, type LpipsForwardOptions } from './lpips.js';
