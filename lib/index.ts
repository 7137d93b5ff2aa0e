// The public surface of mpfnet.
export { Tensor, type Device, type DType } from './tensor.js';
export { tidy, keep, noGrad, isGradEnabled, setGradEnabled } from './autograd/scope.js';
export { cudaAvailable, cudaSynchronize, cudaMemory, cudaOptions, CudaGraph, type CudaStatusInfo, type CudaOptions } from './cuda.js';
export { memory, emptyCache, getNumThreads, setNumThreads, simdLevel, type MemoryInfo } from './memory.js';
export { Generator, manualSeed, getDefaultGenerator, type GeneratorState } from './random.js';
export * from './ops/index.js';
export * from './nn/index.js';
export * from './models/mpfnet/index.js';
export * from './optim/index.js';
export { readSafetensors, writeSafetensors, writeSafetensorsSync, readSafetensorsHeader, encodeSafetensors, decodeSafetensors, SafetensorsError, MAX_HEADER_BYTES, type TensorRecord, type TensorData, type SafetensorsContents } from './io/safetensors.js';
export * from './data/index.js';
export { train, Trainer, makeScheduler, type TrainEvent, type TrainOptions, type TrainResult } from './train/trainer.js';
export { processGroup, type AllreduceStats, type ProcessGroup } from './distributed/process-group.js';
export { resolveTrainConfig, loadTrainConfig, applyOverrides, type TrainConfig, type StageConfig, type ScheduleConfig, type TrainOverrides } from './train/config.js';
export {
  registerLoss, validateCrOptions, createCrTerm, POSITIVE_PRESETS, NEGATIVE_PRESETS, STAGE_START,
  type LossTerm, type LossType, type LossInputs, type LossContext, type CrOptions,
} from './train/loss-terms/index.js';
export { loadTrainCheckpoint, listCheckpoints, latestCheckpoint, type TrainState, type TrainCheckpoint } from './train/checkpoint.js';
export { SummaryWriter, EventFileWriter, crc32c, maskedCrc32c } from './train/tensorboard/index.js';
export { ConfigError } from './util/validate.js';
export {
  readImage, readImageTensor, probeImage, writeImage, encodeImage, imageToTensor, tensorToImage, imageToFloat32, float32ToImage,
  listImageFiles, formatFromPath, ImageError, DEFAULT_PIXEL_LIMIT, IMAGE_EXTENSIONS,
  type Image, type ImageFormat, type ImageErrorCode, type ReadImageOptions, type WriteImageOptions, type ImageToTensorOptions,
} from './io/image.js';
export { writeFileAtomic, writeFileAtomicSync } from './io/atomic-write.js';
export * as metrics from './metrics/index.js';
export { psnr, ssim, niqe, LPIPS, type PairMetricOptions, type LpipsNet } from './metrics/index.js';
export * from './losses/index.js';
export * from './models/embedding/index.js';
export { pretrainEmbedding, EmbeddingPretrainer, resolvePretrainConfig, loadPretrainConfig, type PretrainConfig, type PretrainEvent } from './train/pretrain-embedding.js';
export * from './infer/index.js';
export { runDemo, type DemoOptions, type DemoResult } from './demo/run-demo.js';
// Types that exported signatures mention, exported so that users can name them and the API
// reference links them (typedoc.json: validation.notExported).
export type { ConvActivationName, ConvAlgorithmName, DeviceName, DTypeName, ResizeKernelName, Reduction } from '../bindings/native.js';
export type { ValidationResult, ValidationSample } from './train/validate.js';
export type { EventFields, SummaryValue } from './train/tensorboard/schema.js';
export type { Range } from './data/degrade.js';
export type { Pair } from './nn/conv2d.js';
export type { Scores } from './demo/run-demo.js';
export type { ChannelCount, FromFloatOptions, ToFloatOptions } from './io/image.js';
export type { ScheduleType, DatasetSpec } from './train/config.js';
export type { LossSpec } from './train/loss-terms/index.js';
export type { NamePattern } from './data/paired.js';
export type { GaussianKernelOptions } from './data/kernels.js';
export type { PretrainOverrides } from './train/pretrain-embedding.js';
export type { WarningHandler } from './data/file-dataset.js';
export { exportOnnx, encodeOnnx, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, ONNX_MIN_OPSET, ONNX_MAX_OPSET, ONNX_DEFAULT_OPSET, type ExportOnnxOptions, type ExportOnnxResult } from './export/onnx/index.js';
export { serveExample, type ServeExampleOptions, type ExampleServer } from './serve/example-server.js';
