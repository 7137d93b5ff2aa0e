// Loss terms a training stage can combine: "loss": {"l1": 1, "cr": 1}. Each name maps to a factory
// that validates its options and returns a term computing a scalar tensor from the step's
// tensors; the stage's loss is the weighted sum. L1 is built in; the contrastive term (docs/model.md §3)
// registers itself as 'cr'.
import { l1Loss } from '../ops/index.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import type { MPFNet } from '../models/mpfnet/mpfnet.js';
import { fail, isPlainObject, number } from '../util/validate.js';

/** What a loss term sees at each step: SR output, HR, LR, generator. */
export interface LossInputs {
  /** The model's output for the batch, unclamped. */
  sr: Tensor;
  hr: Tensor;
  lr: Tensor;
  model: MPFNet;
  /** Iteration (0-based, over the whole run). */
  iteration: number;
  /** A generator for losses that sample (resumable: its state is in checkpoints). */
  rng: Generator;
}

/** A loss term of a training stage, created by its {@link LossType}. */
export interface LossTerm {
  /** A one-element tensor (recorded on the tape). */
  compute(x: LossInputs): Tensor;
  /** Release whatever the term holds (networks, buffers). */
  dispose?(): void;
  /** CR (issue 5): JSON a checkpoint keeps for resuming; given back as ctx.state by create(). */
  state?(): Record<string, unknown>;
}

/** CR (issue 5): what create() learns about the run (the fields after scale are set by the trainer). */
export interface LossContext {
  baseDir: string;
  scale: number;
  model?: MPFNet;
  outDir?: string;
  /** The stage's name. */
  stage?: string;
  /** True when the stage starts now, false when a run resumes in its middle. */
  fresh?: boolean;
  /** What state() returned when the checkpoint being resumed was written. */
  state?: unknown;
}

/** A loss type of stage configs (`l1`, `cr`): validates its options and creates the term. */
export interface LossType {
  /** Options besides the weight: {"cr": {"weight": 1, ...}}; return them normalised. */
  validate(options: Record<string, unknown>, where: string): Record<string, unknown>;
  /** Create the term from validated options. */
  create(options: Record<string, unknown>, ctx: LossContext): Promise<LossTerm> | LossTerm;
}

const registry = new Map<string, LossType>();

/** Register a loss type under `name`, for the `loss` of training stages. */
export function registerLoss(name: string, t: LossType): void {
  registry.set(name, t);
}

export function lossNames(): string[] {
  return [...registry.keys()];
}

/** A stage's loss term as configured: weight and options. */
export interface LossSpec {
  weight: number;
  options: Record<string, unknown>;
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

export async function createLossTerm(name: string, spec: LossSpec, ctx: LossContext): Promise<LossTerm> {
  const t = registry.get(name);
  if (!t) throw new RangeError(`unknown loss term '${name}'`);
  return t.create(spec.options, ctx);
}

registerLoss('l1', {
  validate(options, where) {
    const extra = Object.keys(options);
    if (extra.length) fail(`${where}`, `unknown field '${extra[0]}' (l1 takes only a weight)`);
    return {};
  },
  create: () => ({ compute: ({ sr, hr }) => l1Loss(sr, hr) }),
});
