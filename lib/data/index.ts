// Datasets for training and validation.
export { BatchSampler, InMemoryDataset, PatchDataset, SampleSchedule, collate, permutation, tensorToPlanar, boxDegrade, bicubicDegrade, type Batch, type BatchSource, type Dataset, type Degrade, type PatchOptions, type Sample, type Shard } from './dataset.js';
export { crop, orient, boxDownsample, planar, type PlanarImage } from './planar.js';
export { registerDatasetType, validateDatasetSpec, createDataset, datasetTypes, type DatasetContext, type DatasetType } from './registry.js';
export { listImages, loadPlanar, IMAGE_EXTENSIONS } from './image-folder.js';
export { FileDataset, type FileEntry, type CheckedEntry, type FileDatasetOptions } from './file-dataset.js';
export { compilePattern, pairByPattern, realsrFolders } from './paired.js';
export { degrade, parseDegradation, realEsrganPreset, jpegRoundTrip, bicubicDownscale, drawBlurKernel, FIRST_PASS_DEFAULTS, SECOND_PASS_DEFAULTS, type DegradationSpec, type PassSpec, type BlurSpec, type ResizeSpec, type NoiseSpec, type JpegSpec, type ResizeMode } from './degrade.js';
export { gaussianKernel } from './kernels.js';
export { DataLoader, defaultWorkerCount, type LoaderOptions } from './loader.js';
export { DatasetFileError, type WorkerPlan } from './worker-pool.js';
