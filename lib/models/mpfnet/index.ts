// MPF-Net: model, config, checkpoint I/O and summary.
export { MPFNet, createModel, loadModel, CHECKPOINT_FORMAT, type CreateModelOptions, type LoadModelOptions, type ForwardOptions } from './mpfnet.js';
export { DEFAULT_CONFIG, resolveModelConfig, configToJson, type MPFNetConfig, type MPFNetConfigInput } from './config.js';
export { Block, type Deferred } from './block.js';
export { CrossPerceptionBlock } from './cpb.js';
export { MPFE } from './mpfe.js';
export { Upsampler } from './upsampler.js';
export { summary, formatSummary, type ModelSummary, type LayerSummary } from './summary.js';
