// Optimisers, learning-rate schedules and weight averaging.
export { Adam, type AdamOptions, type AdamStateDict, type AdamParamState } from './adam.js';
export { LRScheduler, CosineAnnealingLR, CosineAnnealingWarmRestarts, LinearLR, ConstantLR, SequentialLR, type LROptimizer, type SchedulerState } from './schedules.js';
export { EMA, type EMAOptions, type EMAState } from './ema.js';
