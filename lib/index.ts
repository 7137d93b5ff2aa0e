// The public surface of mpfnet.
export { Tensor, type Device, type DType } from './tensor.js';
export { tidy, keep, noGrad, isGradEnabled, setGradEnabled } from './autograd/scope.js';
export { memory, getNumThreads, setNumThreads, simdLevel, type MemoryInfo } from './memory.js';
export { Generator, manualSeed, getDefaultGenerator, type GeneratorState } from './random.js';
export * from './ops/index.js';
