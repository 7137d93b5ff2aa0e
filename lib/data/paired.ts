// Paired (LR, HR) dataset types, matched by file-name patterns:
//   'paired'  {"root": "data", "hr": "HR/{name}.png", "lr": "LR/{name}x4.png"}
//   'drealsr' the same with DRealSR's names: hr "HR/{name}_x1.png", lr "LR/{name}_x{scale}.png"
//   'realsr'  RealSR V3: <root>[/<Camera>]/{Train|Test}/<scale>/<name>_HR.png + <name>_LR<scale>.png
// Patterns are paths relative to root with {name} (once, in the file name) and {scale}. Every HR
// file matching the HR pattern needs its LR partner and every LR file its HR partner; HR must be
// exactly scale × LR (RealSR V3 and DRealSR store LR at its own size; for LR files stored at the
// HR size, as in RealSR V1/V2, set "upsampledLR": true and they are downscaled by MATLAB bicubic).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { boolean, describe, fail, integer, number, oneOf, rejectUnknown, string } from '../util/validate.js';
import { FileDataset, type FileDatasetOptions, type FileEntry, type WarningHandler } from './file-dataset.js';
import { registerDatasetType, type DatasetContext } from './registry.js';
import { DatasetFileError } from './worker-pool.js';

/** Fields every file dataset type accepts. */
export const COMMON_FIELDS = ['scale', 'skipBad', 'cache', 'limit'] as const;

export interface CommonSpec {
  /** Must equal the model's scale when given (a guard against pointing at the wrong folder). */
  scale?: number;
  skipBad?: boolean;
  /** true: keep every decoded image in memory; a number: at most that many MiB (per worker). */
  cache?: boolean | number;
  /** Use at most this many entries (the first by name). */
  limit?: number;
}

export function validateCommon(spec: Record<string, unknown>, where: string): CommonSpec {
  const out: CommonSpec = {};
  if (spec.scale !== undefined) out.scale = integer(spec.scale, `${where}.scale`, 1, 16);
  if (spec.skipBad !== undefined) out.skipBad = boolean(spec.skipBad, `${where}.skipBad`);
  if (spec.cache !== undefined) out.cache = typeof spec.cache === 'boolean' ? spec.cache : number(spec.cache, `${where}.cache`, { min: 0 });
  if (spec.limit !== undefined) out.limit = integer(spec.limit, `${where}.limit`, 1);
  return out;
}

export function cacheBytes(cache: boolean | number | undefined): number {
  if (cache === undefined || cache === false) return 0;
  if (cache === true) return Infinity;
  return Math.floor(cache * 1024 * 1024);
}

export function checkScale(spec: CommonSpec, ctx: DatasetContext, where: string): void {
  if (spec.scale !== undefined && spec.scale !== ctx.scale) throw new RangeError(`${where}: the dataset's scale ${spec.scale} is not the model's scale ${ctx.scale}`);
}

/** File-dataset options from a spec and the context. */
export function fileOptions(spec: CommonSpec, ctx: DatasetContext, extra: Partial<FileDatasetOptions> = {}): FileDatasetOptions {
  return { scale: ctx.scale, patch: ctx.patch, augment: ctx.augment, skipBad: spec.skipBad ?? false, cacheBytes: cacheBytes(spec.cache), ...extra };
}

export const absolute = (p: string, base: string) => (isAbsolute(p) ? p : resolve(base, p));

/** A name pattern: the folder, a matcher for file names and the inverse (name -> path). */
export interface NamePattern {
  dir: string;
  /** The `{name}` part of a file name, or null when the file name does not fit the pattern. */
  match(fileName: string): string | null;
  /** The path of the file with this `{name}`. */
  path(name: string): string;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Compile "HR/{name}_x{scale}.png" (relative to root) for one scale. */
export function compilePattern(pattern: string, root: string, scale: number, where: string): NamePattern {
  const full = absolute(pattern.replaceAll('{scale}', String(scale)), root);
  const dir = dirname(full);
  const base = basename(full);
  const count = base.split('{name}').length - 1;
  if (count !== 1 || dir.includes('{name}')) fail(where, `must contain {name} exactly once, in the file name (like "HR/{name}.png"), got ${JSON.stringify(pattern)}`);
  const [pre, post] = base.split('{name}') as [string, string];
  const re = new RegExp(`^${escapeRe(pre)}(.+)${escapeRe(post)}$`);
  return {
    dir,
    match: (f) => re.exec(f)?.[1] ?? null,
    path: (name) => join(dir, pre + name + post),
  };
}

function filesIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new RangeError(`cannot list ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return names.filter((n) => statSync(join(dir, n)).isFile()).sort();
}

/**
 * Pair the files of two patterns. Returns the pairs (sorted by HR name) and one problem per file
 * without its partner, naming it and the partner it lacks.
 */
export function pairByPattern(hr: NamePattern, lr: NamePattern): { entries: FileEntry[]; problems: DatasetFileError[] } {
  const entries: FileEntry[] = [];
  const problems: DatasetFileError[] = [];
  const hrNames = new Set<string>();
  const sameDir = hr.dir === lr.dir;
  for (const f of filesIn(hr.dir)) {
    const name = hr.match(f);
    if (name === null) continue;
    // Patterns may overlap in one folder ("{name}.png" and "{name}x4.png"): a file that is the LR
    // of an existing HR file is not an HR file itself.
    if (sameDir) {
      const asLr = lr.match(f);
      if (asLr !== null && existsSync(hr.path(asLr))) continue;
    }
    hrNames.add(name);
    const hrPath = join(hr.dir, f);
    const lrPath = lr.path(name);
    if (existsSync(lrPath)) entries.push({ name, hr: hrPath, lr: lrPath });
    else problems.push(new DatasetFileError(`HR ${hrPath} has no LR partner: ${lrPath} does not exist`, hrPath));
  }
  if (existsSync(lr.dir)) {
    for (const f of filesIn(lr.dir)) {
      const name = lr.match(f);
      if (name === null || hrNames.has(name)) continue;
      const lrPath = join(lr.dir, f);
      if (sameDir && hr.match(f) !== null && hrNames.has(hr.match(f)!)) continue;
      problems.push(new DatasetFileError(`LR ${lrPath} has no HR partner: ${hr.path(name)} does not exist`, lrPath));
    }
  }
  return { entries, problems };
}

/** Fail on the first problem, or with skipBad warn about each and go on. */
export function handleProblems(problems: readonly Error[], skipBad: boolean, onWarning: WarningHandler): void {
  if (!problems.length) return;
  if (!skipBad) throw problems[0]!;
  for (const p of problems) {
    const file = (p as { file?: string }).file ?? '?';
    onWarning(`skipping ${file}: ${p.message}`, file);
  }
}

const defaultWarning: WarningHandler = (message) => process.emitWarning(message, { type: 'MpfnetDataWarning', code: 'MPFNET_SKIPPED_IMAGE' });

async function createPaired(
  spec: CommonSpec & { upsampledLR?: boolean },
  ctx: DatasetContext,
  where: string,
  groups: { hr: NamePattern; lr: NamePattern }[],
): Promise<FileDataset> {
  checkScale(spec, ctx, where);
  const onWarning = ctx.onWarning ?? defaultWarning;
  let entries: FileEntry[] = [];
  const problems: DatasetFileError[] = [];
  for (const g of groups) {
    const r = pairByPattern(g.hr, g.lr);
    entries.push(...r.entries);
    problems.push(...r.problems);
  }
  handleProblems(problems, spec.skipBad ?? false, onWarning);
  if (spec.limit) entries = entries.slice(0, spec.limit);
  if (!entries.length) throw new RangeError(`${where}: no image pairs found (HR files like ${groups.map((g) => g.hr.path('<name>')).join(', ')})`);
  return FileDataset.create(entries, fileOptions(spec, ctx, { upsampledLR: spec.upsampledLR ?? false }), onWarning);
}

// ---------------------------------------------------------------------------------------------
// 'paired' and 'drealsr'

interface PatternSpec extends CommonSpec {
  root: string;
  hr: string;
  lr: string;
  upsampledLR?: boolean;
}

function validatePatterns(spec: Record<string, unknown>, where: string, defaults: { hr?: string; lr?: string }): PatternSpec {
  rejectUnknown(spec, ['root', 'hr', 'lr', 'upsampledLR', ...COMMON_FIELDS], where);
  const hr = spec.hr ?? defaults.hr;
  const lr = spec.lr ?? defaults.lr;
  if (hr === undefined) fail(`${where}.hr`, 'is required: a pattern like "HR/{name}.png"');
  if (lr === undefined) fail(`${where}.lr`, 'is required: a pattern like "LR/{name}x4.png"');
  const out: PatternSpec = { ...validateCommon(spec, where), root: spec.root === undefined ? '.' : string(spec.root, `${where}.root`), hr: string(hr, `${where}.hr`), lr: string(lr, `${where}.lr`) };
  for (const k of ['hr', 'lr'] as const) {
    if (out[k].split('{name}').length !== 2) fail(`${where}.${k}`, `must contain {name} exactly once, got ${JSON.stringify(out[k])}`);
  }
  if (spec.upsampledLR !== undefined) out.upsampledLR = boolean(spec.upsampledLR, `${where}.upsampledLR`);
  return out;
}

function patternType(type: string, defaults: { hr?: string; lr?: string }) {
  registerDatasetType(type, {
    validate: (spec, where) => validatePatterns(spec, where, defaults) as unknown as Record<string, unknown>,
    async create(raw, ctx) {
      const spec = raw as unknown as PatternSpec;
      const where = `dataset '${type}'`;
      const root = absolute(spec.root, ctx.baseDir);
      const hr = compilePattern(spec.hr, root, ctx.scale, `${where}.hr`);
      const lr = compilePattern(spec.lr, root, ctx.scale, `${where}.lr`);
      if (!existsSync(hr.dir)) throw new RangeError(`${where}: the HR folder ${hr.dir} does not exist`);
      return createPaired(spec, ctx, where, [{ hr, lr }]);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// 'realsr'

interface RealSRSpec extends CommonSpec {
  root: string;
  split?: 'train' | 'test';
  cameras?: string[];
  upsampledLR?: boolean;
}

const SPLIT_DIR = { train: 'Train', test: 'Test' } as const;

/** The RealSR folders holding <name>_HR.png files for one split and scale. */
export function realsrFolders(root: string, split: 'train' | 'test', scale: number, cameras?: readonly string[]): string[] {
  const sub = join(SPLIT_DIR[split], String(scale));
  if (!cameras && existsSync(join(root, sub))) return [join(root, sub)];
  let cams = cameras ? [...cameras] : [];
  if (!cameras) {
    try {
      cams = readdirSync(root).filter((c) => existsSync(join(root, c, sub))).sort();
    } catch (e) {
      throw new RangeError(`realsr: cannot list ${root}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const out: string[] = [];
  for (const c of cams) {
    const dir = join(root, c, sub);
    if (!existsSync(dir)) throw new RangeError(`realsr: ${dir} does not exist (camera ${JSON.stringify(c)})`);
    out.push(dir);
  }
  if (!out.length) throw new RangeError(`realsr: found neither ${join(root, sub)} nor <camera>/${sub} under ${root} (RealSR V3 layout: <root>[/Canon|/Nikon]/${SPLIT_DIR[split]}/${scale}/<name>_HR.png)`);
  return out;
}

function registerRealSR(): void {
  registerDatasetType('realsr', {
    validate(spec, where) {
      rejectUnknown(spec, ['root', 'split', 'cameras', 'upsampledLR', ...COMMON_FIELDS], where);
      const out: RealSRSpec = { ...validateCommon(spec, where), root: string(spec.root, `${where}.root`) };
      if (spec.split !== undefined) out.split = oneOf(typeof spec.split === 'string' ? spec.split.toLowerCase() : spec.split, ['train', 'test'] as const, `${where}.split`);
      if (spec.cameras !== undefined) {
        if (!Array.isArray(spec.cameras) || !spec.cameras.length) fail(`${where}.cameras`, `must be a non-empty list of folder names like ["Canon", "Nikon"], got ${describe(spec.cameras)}`);
        out.cameras = spec.cameras.map((c, i) => string(c, `${where}.cameras[${i}]`));
      }
      if (spec.upsampledLR !== undefined) out.upsampledLR = boolean(spec.upsampledLR, `${where}.upsampledLR`);
      return out as unknown as Record<string, unknown>;
    },
    async create(raw, ctx) {
      const spec = raw as unknown as RealSRSpec;
      const where = "dataset 'realsr'";
      const root = absolute(spec.root, ctx.baseDir);
      const split = spec.split ?? (ctx.split === 'train' ? 'train' : 'test');
      const s = ctx.scale;
      const groups = realsrFolders(root, split, s, spec.cameras).map((dir) => ({
        hr: compilePattern('{name}_HR.png', dir, s, `${where}.root`),
        lr: compilePattern(`{name}_LR${s}.png`, dir, s, `${where}.root`),
      }));
      return createPaired(spec, ctx, where, groups);
    },
  });
}

let registered = false;

/**
 * Register 'paired', 'drealsr' and 'realsr' (once). image-folder.ts calls it right after
 * registering 'images', so the types list in that order in messages.
 */
export function registerPairedTypes(): void {
  if (registered) return;
  registered = true;
  patternType('paired', {});
  patternType('drealsr', { hr: 'HR/{name}_x1.png', lr: 'LR/{name}_x{scale}.png' });
  registerRealSR();
}
