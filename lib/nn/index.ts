// Neural-network modules (PyTorch's torch.nn names).
export { Module, type StateValue, type LoadStateOptions } from './module.js';
export { Conv2d, type Conv2dLayerOptions } from './conv2d.js';
export { Linear, type LinearOptions } from './linear.js';
export { SqueezeExcite, seHidden, type SqueezeExciteOptions } from './squeeze-excite.js';
export { ModuleList } from './containers.js';
export { PixelShuffle } from './pixel-shuffle.js';
export { kaimingUniformBound, fanIn, defaultWeight, defaultBias, type InitOptions } from './init.js';
