// The functional API: every op is an autograd function (PyTorch's names in camelCase).
export * from './creation.js';
export * from './unary.js';
export * from './binary.js';
export * from './reduce.js';
export * from './shape.js';
export * from './loss.js';
export * from './pool.js';
export * from './adam.js';
export * from './resize.js';
export * from './maxpool.js';
export * from './degrade.js';
export * from './conv.js';
export * from './linalg.js';
export * from './cr-samples.js';
export * from './cr-similarity.js';
export * from './squeeze-excite.js';
