// Loss terms a training stage can combine: "loss": {"l1": 1, "cr": 1}. Each name maps to a
// LossType that validates its options and builds a term computing a scalar tensor from the step's
// tensors; the stage's loss is the weighted sum. The built-in terms are 'l1' (./l1.ts) and 'cr',
// contrastive regularisation (./cr.ts, built from lib/losses/); registerLoss() adds others.
// The loss ops themselves live in lib/ops/loss.ts.
import { fail, isPlainObject, number } from '../../util/validate.js';
import { crLossType } from './cr.js';
import { l1LossType } from './l1.js';
import type { LossContext, LossSpec, LossTerm, LossType } from './types.js';

export type { LossContext, LossInputs, LossSpec, LossTerm, LossType } from './types.js';
export { validateCrOptions, createCrTerm, POSITIVE_PRESETS, NEGATIVE_PRESETS, STAGE_START, type CrOptions } from './cr.js';

const registry = new Map<string, LossType>([
  ['l1', l1LossType],
  ['cr', crLossType],
]);

/** Make a loss term available to training configs under `name` (replaces a term of that name). */
export function registerLoss(name: string, t: LossType): void {
  registry.set(name, t);
}

/** The names configs may use in a stage's "loss" object. */
export function lossNames(): string[] {
  return [...registry.keys()];
}

/** {"l1": 1} or {"cr": {"weight": 1, ...}} -> normalised specs, names checked against the registry. */
export function validateLossSpec(v: unknown, where: string): Record<string, LossSpec> {
  if (!isPlainObject(v) || !Object.keys(v).length) fail(where, `must be an object of weighted terms like {"l1": 1}, got ${JSON.stringify(v)}`);
  const out: Record<string, LossSpec> = {};
  for (const [name, val] of Object.entries(v)) {
    const t = registry.get(name);
    if (!t) fail(`${where}.${name}`, `unknown loss term (known: ${lossNames().join(', ')})`);
    if (typeof val === 'number') {
      out[name] = { weight: number(val, `${where}.${name}`, { min: 0, exclusiveMin: true }), options: t.validate({}, `${where}.${name}`) };
    } else if (isPlainObject(val)) {
      const { weight, ...opts } = val;
      out[name] = { weight: number(weight ?? 1, `${where}.${name}.weight`, { min: 0, exclusiveMin: true }), options: t.validate(opts, `${where}.${name}`) };
    } else {
      fail(`${where}.${name}`, `must be a positive weight or an object with "weight", got ${JSON.stringify(val)}`);
    }
  }
  return out;
}

/** Build the term `name` of a stage from its validated spec. */
export async function createLossTerm(name: string, spec: LossSpec, ctx: LossContext): Promise<LossTerm> {
  const t = registry.get(name);
  if (!t) throw new RangeError(`unknown loss term '${name}'`);
  return t.create(spec.options, ctx);
}
