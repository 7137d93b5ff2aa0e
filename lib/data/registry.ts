// Dataset types a training config can name: data.train = {"type": "<name>", ...}. Each type
// validates its own fields (strictly, naming them) and builds a Dataset: 'images' (a folder or list
// of HR images, degraded on the fly), 'realsr', 'drealsr' and 'paired' (lib/data/paired.ts).
import { fail, isPlainObject } from '../util/validate.js';
import type { Dataset, Degrade } from './dataset.js';

/**
 * What a dataset type needs to create a dataset: scale, patch, augmentation, split, base folder, warnings.
 */
export interface DatasetContext {
  scale: number;
  /** LR patch size; null for whole images (validation). */
  patch: number | null;
  augment: boolean;
  split: 'train' | 'val';
  /** Relative paths in the spec resolve against this folder (the config file's). */
  baseDir: string;
  /** The degradation for HR-only sources, when the caller has one (default: the type's own). */
  degrade?: Degrade;
  /** Where warnings about skipped files go (default: process.emitWarning, type 'MpfnetDataWarning'). */
  onWarning?: (message: string, file: string) => void;
}

/**
 * A dataset type of the training config (`images`, `paired`, ...): validates its spec and creates the
 * dataset.
 */
export interface DatasetType {
  /** Check a spec (without 'type'); return the normalised spec. `where` names it in errors. */
  validate(spec: Record<string, unknown>, where: string): Record<string, unknown>;
  /** Create the dataset from a validated spec. */
  create(spec: Record<string, unknown>, ctx: DatasetContext): Promise<Dataset>;
}

const types = new Map<string, DatasetType>();

/** Register a dataset type under `name`, for `data.train` / `data.val` of training configs. */
export function registerDatasetType(name: string, t: DatasetType): void {
  types.set(name, t);
}

/** The names of the registered dataset types. */
export function datasetTypes(): string[] {
  return [...types.keys()];
}

/** Validate {type, ...fields}; returns the normalised spec with its type. */
export function validateDatasetSpec(spec: unknown, where: string): { type: string } & Record<string, unknown> {
  if (!isPlainObject(spec)) fail(where, `must be an object like {"type": "images", "dir": "..."}, got ${JSON.stringify(spec)}`);
  const type = spec.type;
  if (typeof type !== 'string' || !types.has(type)) fail(`${where}.type`, `must be one of ${datasetTypes().map((t) => JSON.stringify(t)).join(', ')}, got ${JSON.stringify(type)}`);
  const { type: _t, ...rest } = spec;
  return { type, ...types.get(type)!.validate(rest, where) };
}

/** Create the dataset a (validated) spec names by its `type`. */
export async function createDataset(spec: { type: string } & Record<string, unknown>, ctx: DatasetContext): Promise<Dataset> {
  const t = types.get(spec.type);
  if (!t) throw new RangeError(`unknown dataset type ${JSON.stringify(spec.type)}`);
  const { type: _t, ...rest } = spec;
  return t.create(rest, ctx);
}
