// The shapes of the loss terms a training stage combines (see ./index.ts for the registry). Kept
// apart from the registry so a term's module can depend on them without importing the registry.
import type { Generator } from '../../random.js';
import type { Tensor } from '../../tensor.js';
import type { MPFNet } from '../../models/mpfnet/mpfnet.js';

/** The tensors of one training step that a loss term may read. */
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

/** One term of a stage's loss, built by a {@link LossType} for the stage. */
export interface LossTerm {
  /** A one-element tensor (recorded on the tape). */
  compute(x: LossInputs): Tensor;
  /** Release whatever the term holds (networks, buffers). */
  dispose?(): void;
  /** JSON a checkpoint keeps for resuming; given back as ctx.state by create(). */
  state?(): Record<string, unknown>;
}

/** What create() learns about the run (the fields after scale are set by the trainer). */
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

/** A named kind of loss term: validates its config options and builds the term. */
export interface LossType {
  /** Options besides the weight: {"cr": {"weight": 1, ...}}; return them normalised. */
  validate(options: Record<string, unknown>, where: string): Record<string, unknown>;
  /** Build the term from its config options (already validated by validate()) and the run context. */
  create(options: Record<string, unknown>, ctx: LossContext): Promise<LossTerm> | LossTerm;
}

/** A validated entry of a stage's "loss" object. */
export interface LossSpec {
  weight: number;
  options: Record<string, unknown>;
}
