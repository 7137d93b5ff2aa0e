// The 'cr' loss term of training stages: L_CR of docs/model.md §3 (ContrastiveRegularizer) with its options
// validated strictly, its networks loaded, and what a resume needs recorded. Stage 2 of docs/model.md §2:
//   "loss": {"l1": 1, "cr": {"weight": 1, "embedding": "e.safetensors"}}
// Options (defaults = docs/model.md §3's reading): tau 1; embedding: a pretrained E (required); teacher:
// "stage-start" (the model's weights when the stage starts: the stage-1 model in a two-stage run)
// or an MPF-Net checkpoint; positives "gen+gt" | "gen" | "gt" or an object; negatives "gen+lr" |
// "gen" | "lr" | "rand" or an object (Table VII's rows); chunk 16 (sample images per pass of E);
// crop null (beyond docs/model.md: a random crop × crop HR window for E, to cut its cost).
//
// Resume: a "stage-start" teacher is written once to <out>/cr-teacher-<stage>.safetensors when the
// stage starts; the checkpoint state records that file and E's file with their SHA-256, and a
// resumed run loads the same teacher and refuses an E file that changed.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ContrastiveRegularizer, type NegativeSpec, type PositiveSpec } from '../../losses/regularizer.js';
import { DEFAULT_BLUR, DEFAULT_SHARPEN, type CrBlurSpec, type SharpenSpec } from '../../losses/samples.js';
import { loadEmbedding } from '../../models/embedding/checkpoint.js';
import { MPFNet, loadModel } from '../../models/mpfnet/mpfnet.js';
import { Generator } from '../../random.js';
import { boolean, fail, integer, isPlainObject, number, oneOf, rejectUnknown, string } from '../../util/validate.js';
import type { LossContext, LossTerm, LossType } from './types.js';

/** The `teacher` value that snapshots the model when the contrastive stage starts. */
export const STAGE_START = 'stage-start';

/** Table VII's positive sets. */
export const POSITIVE_PRESETS = {
  'gen+gt': { sharpened: 3, teacher: true, gt: true },
  gen: { sharpened: 3, teacher: true, gt: false },
  gt: { sharpened: 0, teacher: false, gt: true },
} as const;

/** Table VII's negative sets ("rand": other images of the batch, up to 5 of them). */
export const NEGATIVE_PRESETS = {
  'gen+lr': { blurred: 4, lr: true, others: 0 },
  gen: { blurred: 4, lr: false, others: 0 },
  lr: { blurred: 0, lr: true, others: 0 },
  rand: { blurred: 0, lr: false, others: 5 },
} as const;

/** Options of the `cr` loss term (docs/contrastive-regularization.md). */
export interface CrOptions {
  tau: number;
  embedding: string;
  teacher: string;
  positives: PositiveSpec;
  negatives: NegativeSpec;
  chunk: number;
  /** Beyond docs/model.md (null: off): E sees a random crop × crop HR window. */
  crop: number | null;
}

function range(v: unknown, where: string, o: { min: number; max?: number; positive?: boolean }): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) fail(where, `must be a [low, high] pair, got ${JSON.stringify(v)}`);
  const lo = number(v[0], `${where}[0]`, { min: o.min, max: o.max, exclusiveMin: o.positive });
  const hi = number(v[1], `${where}[1]`, { min: o.min, max: o.max, exclusiveMin: o.positive });
  if (hi < lo) fail(where, `high ${hi} is below low ${lo}`);
  return [lo, hi];
}

function sharpenSpec(v: unknown, where: string): SharpenSpec {
  if (v === undefined) return { ...DEFAULT_SHARPEN, types: [...DEFAULT_SHARPEN.types] };
  if (!isPlainObject(v)) fail(where, `must be an object, got ${JSON.stringify(v)}`);
  rejectUnknown(v, ['types', 'factor', 'unsharpSigma'], where);
  const types = v.types ?? DEFAULT_SHARPEN.types;
  if (!Array.isArray(types) || !types.length) fail(`${where}.types`, `must be a non-empty list of "pcl" and/or "unsharp", got ${JSON.stringify(types)}`);
  return {
    types: types.map((t, i) => oneOf(t, ['pcl', 'unsharp'] as const, `${where}.types[${i}]`)),
    factor: v.factor === undefined ? [...DEFAULT_SHARPEN.factor] : range(v.factor, `${where}.factor`, { min: 0, max: 100 }),
    unsharpSigma: v.unsharpSigma === undefined ? [...DEFAULT_SHARPEN.unsharpSigma] : range(v.unsharpSigma, `${where}.unsharpSigma`, { min: 0, max: 50, positive: true }),
  };
}

function blurSpec(v: unknown, where: string): CrBlurSpec {
  if (v === undefined) return { ...DEFAULT_BLUR, kernelSizes: [...DEFAULT_BLUR.kernelSizes] };
  if (!isPlainObject(v)) fail(where, `must be an object, got ${JSON.stringify(v)}`);
  rejectUnknown(v, ['kernelSizes', 'sigma', 'noise', 'clip'], where);
  const sizes = v.kernelSizes ?? DEFAULT_BLUR.kernelSizes;
  if (!Array.isArray(sizes) || !sizes.length) fail(`${where}.kernelSizes`, `must be a non-empty list of odd sizes, got ${JSON.stringify(sizes)}`);
  return {
    kernelSizes: sizes.map((k, i) => {
      const s = integer(k, `${where}.kernelSizes[${i}]`, 1, 101);
      if (s % 2 === 0) fail(`${where}.kernelSizes[${i}]`, `must be odd, got ${s}`);
      return s;
    }),
    sigma: v.sigma === undefined ? [...DEFAULT_BLUR.sigma] : range(v.sigma, `${where}.sigma`, { min: 0, max: 50, positive: true }),
    noise: v.noise === undefined ? [...DEFAULT_BLUR.noise] : range(v.noise, `${where}.noise`, { min: 0, max: 1 }),
    clip: v.clip === undefined ? DEFAULT_BLUR.clip : boolean(v.clip, `${where}.clip`),
  };
}

function positives(v: unknown, where: string): PositiveSpec {
  if (v === undefined || typeof v === 'string') {
    const preset = oneOf(v ?? 'gen+gt', Object.keys(POSITIVE_PRESETS) as (keyof typeof POSITIVE_PRESETS)[], where);
    return { ...POSITIVE_PRESETS[preset], sharpen: sharpenSpec(undefined, where) };
  }
  if (!isPlainObject(v)) fail(where, `must be "gen+gt", "gen", "gt" or an object, got ${JSON.stringify(v)}`);
  rejectUnknown(v, ['sharpened', 'sharpen', 'teacher', 'gt'], where);
  const out: PositiveSpec = {
    sharpened: integer(v.sharpened ?? 3, `${where}.sharpened`, 0, 64),
    sharpen: sharpenSpec(v.sharpen, `${where}.sharpen`),
    teacher: boolean(v.teacher ?? true, `${where}.teacher`),
    gt: boolean(v.gt ?? true, `${where}.gt`),
  };
  if (!out.sharpened && !out.teacher && !out.gt) fail(where, 'has no positives: enable sharpened, teacher or gt');
  return out;
}

function negatives(v: unknown, where: string): NegativeSpec {
  if (v === undefined || typeof v === 'string') {
    const preset = oneOf(v ?? 'gen+lr', Object.keys(NEGATIVE_PRESETS) as (keyof typeof NEGATIVE_PRESETS)[], where);
    return { ...NEGATIVE_PRESETS[preset], blur: blurSpec(undefined, where), othersSource: 'hr' };
  }
  if (!isPlainObject(v)) fail(where, `must be "gen+lr", "gen", "lr", "rand" or an object, got ${JSON.stringify(v)}`);
  rejectUnknown(v, ['blurred', 'blur', 'lr', 'others', 'othersSource'], where);
  const out: NegativeSpec = {
    blurred: integer(v.blurred ?? 4, `${where}.blurred`, 0, 64),
    blur: blurSpec(v.blur, `${where}.blur`),
    lr: boolean(v.lr ?? true, `${where}.lr`),
    others: integer(v.others ?? 0, `${where}.others`, 0, 4095),
    othersSource: oneOf(v.othersSource ?? 'hr', ['hr', 'lr'] as const, `${where}.othersSource`),
  };
  if (!out.blurred && !out.lr && !out.others) fail(where, 'has no negatives: enable blurred, lr or others');
  return out;
}

/** Validate the options of a 'cr' term (besides its weight). */
export function validateCrOptions(o: Record<string, unknown>, where: string): CrOptions {
  rejectUnknown(o, ['tau', 'embedding', 'teacher', 'positives', 'negatives', 'chunk', 'crop'], where);
  if (o.embedding === undefined) fail(`${where}.embedding`, 'is required: a pretrained embedding network (mpfnet pretrain-embedding writes one)');
  const pos = positives(o.positives, `${where}.positives`);
  return {
    tau: number(o.tau ?? 1, `${where}.tau`, { min: 0, exclusiveMin: true, max: 1e6 }),
    embedding: string(o.embedding, `${where}.embedding`),
    teacher: string(o.teacher ?? STAGE_START, `${where}.teacher`),
    positives: pos,
    negatives: negatives(o.negatives, `${where}.negatives`),
    chunk: integer(o.chunk ?? 16, `${where}.chunk`, 1, 1 << 20),
    crop: o.crop === undefined || o.crop === null ? null : integer(o.crop, `${where}.crop`, 8, 1 << 16),
  };
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** What a checkpoint records about the term's networks. */
type CrState = {
  embedding: { path: string; sha256: string };
  teacher: { path: string; sha256: string } | null;
};

function isCrState(v: unknown): v is CrState {
  return isPlainObject(v) && isPlainObject(v.embedding) && typeof v.embedding.sha256 === 'string' && (v.teacher === null || (isPlainObject(v.teacher) && typeof v.teacher.path === 'string'));
}

/** The 'cr' term for a stage: loads E (frozen) and the teacher, and builds the regulariser. */
export async function createCrTerm(
  o: CrOptions,
  ctx: LossContext,
): Promise<LossTerm & {
  regularizer: ContrastiveRegularizer;
  /** What a resume needs: E's and the teacher's files with their SHA-256. */
  state(): CrState;
}> {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(ctx.baseDir, p));
  const ePath = abs(o.embedding);
  const eHash = sha256(ePath);
  const resumed = ctx.fresh === false && ctx.state !== undefined;
  if (ctx.fresh === false && ctx.state !== undefined && !isCrState(ctx.state)) throw new RangeError(`cr: the checkpoint's record of the contrastive term is unreadable`);
  const saved = resumed ? (ctx.state as CrState) : null;
  if (saved && saved.embedding.sha256 !== eHash) {
    throw new RangeError(`cr: the embedding network ${ePath} differs from the one this run started with (SHA-256 ${saved.embedding.sha256.slice(0, 12)}…, now ${eHash.slice(0, 12)}…): resuming would not continue the same training`);
  }
  let teacher: MPFNet | null = null;
  let teacherRecord: CrState['teacher'] = null;
  const embedding = loadEmbedding(ePath, { freeze: true });
  try {
    if (o.positives.teacher) {
      let path: string;
      if (o.teacher !== STAGE_START) path = abs(o.teacher);
      else if (saved?.teacher) path = resolve(ctx.outDir ?? ctx.baseDir, saved.teacher.path);
      else if (ctx.fresh === false) {
        throw new RangeError(`cr: resuming in the middle of stage '${ctx.stage}' needs the teacher snapshot taken when the stage started, but the checkpoint records none`);
      } else {
        if (!ctx.model || !ctx.outDir) throw new RangeError('cr: teacher "stage-start" needs the model being trained (use it from a training stage, or give a checkpoint path)');
        path = join(ctx.outDir, `cr-teacher-${ctx.stage ?? 'stage'}.safetensors`);
        const snap = new MPFNet(ctx.model.config, { generator: new Generator(0) });
        snap.loadStateDict(ctx.model.stateDict());
        await snap.save(path, { source: 'cr teacher: the model when the stage started' });
        snap.dispose();
      }
      const hash = sha256(path);
      if (saved?.teacher && saved.teacher.sha256 !== hash) throw new RangeError(`cr: the teacher ${path} changed since the checkpoint was written (SHA-256 differs)`);
      teacher = loadModel(path, { expect: { scale: ctx.scale as 2 | 3 | 4 } });
      for (const p of teacher.parameters()) p.requiresGrad = false;
      teacher.eval();
      // A snapshot in the output folder is recorded relative to it, so a run folder can move.
      const inOut = ctx.outDir && !relative(ctx.outDir, path).startsWith('..') && !isAbsolute(relative(ctx.outDir, path));
      teacherRecord = { path: inOut ? relative(ctx.outDir!, path) : path, sha256: hash };
    }
  } catch (e) {
    embedding.dispose();
    teacher?.dispose();
    throw e;
  }
  if (o.crop !== null && o.crop % ctx.scale !== 0) {
    embedding.dispose();
    teacher?.dispose();
    throw new RangeError(`cr: crop ${o.crop} must be a multiple of the scale ${ctx.scale}`);
  }
  const regularizer = new ContrastiveRegularizer(embedding, teacher, { tau: o.tau, positives: o.positives, negatives: o.negatives, chunk: o.chunk, crop: o.crop, scale: ctx.scale });
  const record: CrState = { embedding: { path: ePath, sha256: eHash }, teacher: teacherRecord };
  return {
    regularizer,
    compute: ({ sr, hr, lr, rng }) => regularizer.compute(sr, hr, lr, rng),
    state: () => record,
    dispose: () => regularizer.dispose(),
  };
}

/** The 'cr' term; registered by ./index.ts. */
export const crLossType: LossType = {
  validate: (options, where) => validateCrOptions(options, where) as unknown as Record<string, unknown>,
  create: (options, ctx) => createCrTerm(options as unknown as CrOptions, ctx),
};
