// The 'l1' loss term: mean absolute error between the model's output and the ground truth.
import { l1Loss } from '../../ops/index.js';
import { fail } from '../../util/validate.js';
import type { LossType } from './types.js';

/** The 'l1' term: takes only a weight. */
export const l1LossType: LossType = {
  validate(options, where) {
    const extra = Object.keys(options);
    if (extra.length) fail(`${where}`, `unknown field '${extra[0]}' (l1 takes only a weight)`);
    return {};
  },
  create: () => ({ compute: ({ sr, hr }) => l1Loss(sr, hr) }),
};
