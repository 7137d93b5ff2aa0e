// Inference for users: tiled, seam-free upscaling on a worker thread, for one image or a folder.
export { upscale, Upscaler, AbortError, DEFAULT_TILE, DEFAULT_TILE_PAD, type UpscaleInput, type UpscaleOptions, type UpscalerOptions, type UpscaleRunOptions, type UpscaleProgress, type UpscaleFileResult, type RawPixels } from './upscale.js';
export { upscaleFolder, planJobs, type FolderOptions, type FolderResult, type FolderEvent } from './folder.js';
export { planTiles, planAxis, type TilePlan, type AxisPlan } from './tiles.js';
export type { AlphaMode } from './worker-protocol.js';
export { setInferencePrecision, getInferencePrecision, withInferencePrecision, bf16Supported, type InferencePrecision } from './precision.js';
