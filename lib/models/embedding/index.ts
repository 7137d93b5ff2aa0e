// The embedding network E of contrastive regularisation (docs/model.md §3): SNResNet-18 with spectral norm.
export { SNResNet18, BasicBlock, ProjectionHead, DEFAULT_EMBEDDING_CONFIG, resolveEmbeddingConfig, embeddingConfigToJson, type EmbeddingConfig } from './snresnet18.js';
export { SpectralNorm, SNConv2d, SNLinear, type SpectralNormOptions, type SNConv2dOptions } from './spectral-norm.js';
export { createEmbedding, loadEmbedding, saveEmbedding, loadEmbeddingState, embeddingState, embeddingTensorData, inferEmbeddingConfig, EMBEDDING_FORMAT, EMBEDDING_TRAIN_FORMAT, type LoadEmbeddingOptions } from './checkpoint.js';
