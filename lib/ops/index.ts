// The functional API: every op is an autograd function (PyTorch's names in camelCase).
export * from './creation.js';
export * from './unary.js';
