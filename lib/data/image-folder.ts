// The 'images' dataset type: HR images from a folder (or a list of files); LR patches are made by
// degrading HR patches (MATLAB bicubic by default, or the "degradation" settings of degrade.ts),
// decoded when needed (file-dataset.ts). Grey images are replicated to RGB, alpha is dropped.
// A caller-supplied ctx.degrade function keeps the older in-memory path (PatchDataset).
import { readdirSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, resolve } from 'node:path';
import { imageToFloat32, readImage } from '../io/image.js';
import { fail, integer, rejectUnknown, string } from '../util/validate.js';
import { PatchDataset, type Dataset } from './dataset.js';
import { parseDegradation } from './degrade.js';
import { FileDataset } from './file-dataset.js';
import { COMMON_FIELDS, checkScale, fileOptions, registerPairedTypes, validateCommon, type CommonSpec } from './paired.js';
import type { PlanarImage } from './planar.js';
import { registerDatasetType, type DatasetContext } from './registry.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.bmp'];

/** Image files of a folder, sorted by name (so runs see the same order everywhere). */
export function listImages(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new RangeError(`cannot list images in ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return names
    .filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()))
    .sort()
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile());
}

/** An image file as planar RGB float32 in [0, 1]. */
export async function loadPlanar(path: string): Promise<PlanarImage> {
  const f = imageToFloat32(await readImage(path), { rgb: true });
  return { data: f.data, channels: 3, height: f.height, width: f.width };
}

export interface ImagesSpec extends CommonSpec {
  dir?: string;
  files?: string[];
  /** Use at most this many images (the first by name). */
  limit?: number;
  /** "bicubic" (default), "realesrgan" or settings (degrade.ts); kept as written, parsed on create. */
  degradation?: unknown;
}

registerDatasetType('images', {
  validate(spec, where) {
    rejectUnknown(spec, ['dir', 'files', 'degradation', ...COMMON_FIELDS], where);
    if ((spec.dir === undefined) === (spec.files === undefined)) fail(where, "needs exactly one of 'dir' and 'files'");
    const out: ImagesSpec = validateCommon(spec, where);
    if (spec.degradation !== undefined) {
      parseDegradation(spec.degradation, `${where}.degradation`);
      out.degradation = spec.degradation;
    }
    if (spec.dir !== undefined) out.dir = string(spec.dir, `${where}.dir`);
    if (spec.files !== undefined) {
      if (!Array.isArray(spec.files) || !spec.files.length) fail(`${where}.files`, 'must be a non-empty list of paths');
      out.files = spec.files.map((f, i) => string(f, `${where}.files[${i}]`));
    }
    if (spec.limit !== undefined) out.limit = integer(spec.limit, `${where}.limit`, 1);
    return out as Record<string, unknown>;
  },
  async create(raw, ctx: DatasetContext): Promise<Dataset> {
    const spec = raw as ImagesSpec;
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(ctx.baseDir, p));
    let files = spec.dir !== undefined ? listImages(abs(spec.dir)) : spec.files!.map(abs);
    if (spec.limit) files = files.slice(0, spec.limit);
    if (!files.length) throw new RangeError(`no images found in ${spec.dir ?? '(files)'}`);
    checkScale(spec, ctx, "dataset 'images'");
    if (!ctx.degrade) {
      const degradation = parseDegradation(spec.degradation, "dataset 'images'.degradation");
      return FileDataset.create(files.map((f) => ({ name: f, hr: f })), fileOptions(spec, ctx, { degradation }), ctx.onWarning);
    }
    const sources = [];
    for (const f of files) sources.push({ hr: await loadPlanar(f), name: f });
    return new PatchDataset(sources, { scale: ctx.scale, patch: ctx.patch, augment: ctx.augment, degrade: ctx.degrade });
  },
});

// The paired types register after 'images', the type most configs start from.
registerPairedTypes();
