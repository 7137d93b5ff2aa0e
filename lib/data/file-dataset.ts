// Datasets of image files, decoded when a sample needs them: (LR, HR) pairs ('realsr', 'drealsr',
// 'paired') or HR images whose LR is made by degradation ('images'). The files are listed and
// their headers checked when the dataset is created, so missing partners, sizes that do not pair
// and unreadable files fail (or, with skipBad, are skipped with a warning) before training starts.
//
// A sample: a random LR crop of `patch` (HR: scale × patch at the same place), random flips and
// 90° rotation, then for HR-only files the degradation (degrade.ts); or with patch null the whole
// image (validation), cut to a multiple of the scale. The generator draws happen in the same order
// as PatchDataset's (crop top, left, h-flip, v-flip, transpose, then the degradation).
//
// getAsync() is the real implementation. get(), the synchronous Dataset interface, runs it on a
// private worker thread (decoding and JPEG through sharp are asynchronous); DataLoader runs it on
// several workers at once. Each copy of the dataset (here, on each worker) keeps its own cache.
import { readImage, probeImage } from '../io/image.js';
import { Generator } from '../random.js';
import type { Dataset, Sample } from './dataset.js';
import { cropRgb, DecodedCache, decodedSize, type Decoded } from './decoded.js';
import { bicubicDownscale, degrade, type DegradationSpec } from './degrade.js';
import { orient, type PlanarImage } from './planar.js';
import { DatasetFileError, WorkerPool, type WorkerPlan } from './worker-pool.js';

/** One (HR, optional LR) pair of files of a file dataset. */
export interface FileEntry {
  /** A name for logs and per-image validation results. */
  name: string;
  hr: string;
  /** The LR partner; absent for HR-only entries (degraded on the fly). */
  lr?: string;
}

/** An entry whose header has been read: sizes after the EXIF orientation, [height, width]. */
export interface CheckedEntry extends FileEntry {
  hrSize: [number, number];
  lrSize?: [number, number];
}

/** Options of a {@link FileDataset}. */
export interface FileDatasetOptions {
  scale: number;
  /** LR patch size (HR: scale × patch); null for whole images. */
  patch: number | null;
  /** Random flips and 90° rotation. */
  augment: boolean;
  /** Random crop positions (default: augment), else the centre. */
  randomCrop?: boolean;
  /** How HR-only entries get their LR (null: MATLAB bicubic). */
  degradation?: DegradationSpec | null;
  /** LR files are stored at the HR size (RealSR V1/V2 style): downscale them by the scale on load. */
  upsampledLR?: boolean;
  /** Skip unusable files with a warning instead of failing. */
  skipBad?: boolean;
  /** Keep decoded images in memory, up to this many bytes per dataset copy (0: off, Infinity: all). */
  cacheBytes?: number;
  /** The decoder's pixel limit (see readImage). */
  limitPixels?: number | false;
}

type ResolvedOptions = Required<Omit<FileDatasetOptions, 'limitPixels'>> & { limitPixels: number | false | undefined };

/** Receives a warning about an unusable file (`skipBad`). */
export type WarningHandler = (message: string, file: string) => void;

const defaultWarning: WarningHandler = (message) => process.emitWarning(message, { type: 'MpfnetDataWarning', code: 'MPFNET_SKIPPED_IMAGE' });

function describeSize([h, w]: [number, number]): string {
  return `${w}×${h}`;
}

/** Why an entry cannot be used (from its header sizes), or null. */
function sizeProblem(e: CheckedEntry, o: { scale: number; patch: number | null; upsampledLR?: boolean }): DatasetFileError | null {
  const s = o.scale;
  let lrSize: [number, number];
  if (e.lr && e.lrSize) {
    const want: [number, number] = o.upsampledLR ? e.hrSize : [s * e.lrSize[0], s * e.lrSize[1]];
    if (want[0] !== e.hrSize[0] || want[1] !== e.hrSize[1]) {
      const rule = o.upsampledLR ? 'the same size as LR (upsampledLR)' : `${s} × LR = ${describeSize(want)}`;
      return new DatasetFileError(`HR ${e.hr} (${describeSize(e.hrSize)}) and LR ${e.lr} (${describeSize(e.lrSize)}) do not pair: HR must be ${rule}`, e.hr);
    }
    lrSize = o.upsampledLR ? [Math.floor(e.hrSize[0] / s), Math.floor(e.hrSize[1] / s)] : e.lrSize;
  } else {
    lrSize = [Math.floor(e.hrSize[0] / s), Math.floor(e.hrSize[1] / s)];
  }
  if (o.patch !== null && (lrSize[0] < o.patch || lrSize[1] < o.patch)) {
    const what = e.lr && !o.upsampledLR ? `its LR ${e.lr} is ${describeSize(lrSize)}` : `${describeSize(e.hrSize)} gives an LR of ${describeSize(lrSize)} at scale ${s}`;
    return new DatasetFileError(`${e.lr && !o.upsampledLR ? e.lr : e.hr} is too small for ${o.patch}×${o.patch} LR patches: ${what}`, e.lr && !o.upsampledLR ? e.lr : e.hr);
  }
  if (lrSize[0] < 1 || lrSize[1] < 1) return new DatasetFileError(`${e.hr} (${describeSize(e.hrSize)}) is smaller than the scale ${s}`, e.hr);
  return null;
}

/** Errors that mean "this file is unusable" (skipBad skips them); anything else is a bug or a config error. */
export function isBadFileError(e: unknown): e is Error & ({ path: string } | { file: string }) {
  return e instanceof Error && (e.name === 'ImageError' || e.name === 'DatasetFileError');
}

function badFileOf(e: Error): string {
  return (e as { path?: string }).path ?? (e as { file?: string }).file ?? '?';
}

async function mapLimit<T, R>(xs: readonly T[], limit: number, f: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(xs.length);
  let next = 0;
  const run = async () => {
    while (next < xs.length) {
      const i = next++;
      out[i] = await f(xs[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, xs.length) }, run));
  return out;
}

/**
 * A dataset of image files decoded on demand (through sharp), with optional decoded-image cache and
 * degradation; what the `images`, `paired`, `drealsr` and `realsr` types create.
 */
export class FileDataset implements Dataset {
  readonly entries: readonly CheckedEntry[];
  readonly options: ResolvedOptions;
  readonly #cache: DecodedCache;
  readonly #loading = new Map<string, Promise<Decoded>>();
  readonly #warned = new Set<string>();
  #onWarning: WarningHandler;
  #sinkToParent: ((file: string, message: string) => void) | null = null;
  #syncPool: WorkerPool | null = null;

  constructor(entries: readonly CheckedEntry[], o: FileDatasetOptions, onWarning: WarningHandler = defaultWarning) {
    if (!entries.length) throw new RangeError('FileDataset: no images');
    if (!Number.isSafeInteger(o.scale) || o.scale < 1) throw new RangeError(`FileDataset: scale must be a positive integer, got ${o.scale}`);
    const augment = o.augment;
    this.entries = entries;
    this.options = {
      scale: o.scale,
      patch: o.patch,
      augment,
      randomCrop: o.randomCrop ?? augment,
      degradation: o.degradation ?? null,
      upsampledLR: o.upsampledLR ?? false,
      skipBad: o.skipBad ?? false,
      cacheBytes: o.cacheBytes ?? 0,
      limitPixels: o.limitPixels,
    };
    this.#cache = new DecodedCache(this.options.cacheBytes);
    this.#onWarning = onWarning;
  }

  /**
   * Read every entry's header and check it (readable, partner sizes, large enough for the
   * patch). Unusable entries fail with an error naming the file, or with skipBad are dropped with
   * a warning. Returns the dataset of the usable ones.
   */
  static async create(entries: readonly FileEntry[], o: FileDatasetOptions, onWarning: WarningHandler = defaultWarning): Promise<FileDataset> {
    const warned = new Set<string>();
    const problems: (Error | null)[] = [];
    const checked = await mapLimit(entries, 8, async (e, i) => {
      try {
        const hr = await probeImage(e.hr);
        const c: CheckedEntry = { ...e, hrSize: [hr.height, hr.width] };
        if (e.lr) {
          const lr = await probeImage(e.lr);
          c.lrSize = [lr.height, lr.width];
        }
        problems[i] = sizeProblem(c, o);
        return c;
      } catch (err) {
        if (!isBadFileError(err)) throw err;
        problems[i] = err;
        return null;
      }
    });
    const good: CheckedEntry[] = [];
    for (let i = 0; i < entries.length; i++) {
      const p = problems[i];
      if (!p) {
        good.push(checked[i]!);
        continue;
      }
      if (!o.skipBad) throw p;
      const file = badFileOf(p);
      if (!warned.has(file)) {
        warned.add(file);
        onWarning(`skipping ${file}: ${p.message}`, file);
      }
    }
    if (!good.length) throw new RangeError(`no usable images among ${entries.length} (every one was skipped)`);
    const ds = new FileDataset(good, o, onWarning);
    for (const f of warned) ds.#warned.add(f);
    return ds;
  }

  /** Rebuild a copy on a worker thread (see worker-pool.ts). */
  static fromPlan(entries: CheckedEntry[], o: FileDatasetOptions): FileDataset {
    return new FileDataset(entries, o, () => {});
  }

  /** How a worker thread rebuilds this dataset (module, export name and constructor arguments). */
  workerPlan(): WorkerPlan {
    return { module: import.meta.url, exportName: 'FileDataset', args: [this.entries, { ...this.options }] };
  }

  /** Replicas on workers send their warnings to the main thread's dataset. */
  setWarningSink(sink: (file: string, message: string) => void): void {
    this.#sinkToParent = sink;
  }

  /** Report an unusable file, once per file. */
  warn(file: string, message: string): void {
    if (this.#sinkToParent) {
      this.#sinkToParent(file, message);
      return;
    }
    if (this.#warned.has(file)) return;
    this.#warned.add(file);
    this.#onWarning(message, file);
  }

  /** Number of file entries. */
  get length(): number {
    return this.entries.length;
  }

  /** Whether decoded images are kept in memory (`cache`). */
  get cachesImages(): boolean {
    return this.options.cacheBytes > 0;
  }

  /** Bytes of decoded images this copy holds. */
  get cachedBytes(): number {
    return this.#cache.bytes;
  }

  async #decode(path: string, downscale: boolean): Promise<Decoded> {
    const img = await readImage(path, this.options.limitPixels === undefined ? {} : { limitPixels: this.options.limitPixels });
    if (!downscale) return { kind: 'image', image: img };
    const full = cropRgb({ kind: 'image', image: img }, 0, 0, img.height, img.width);
    return { kind: 'planar', planar: bicubicDownscale(full, this.options.scale) };
  }

  /** A decoded file, from the cache or the decoder (concurrent requests share one decode). */
  #load(path: string, downscale = false): Promise<Decoded> {
    const key = downscale ? `${path}\0down` : path;
    const hit = this.#cache.get(key);
    if (hit) return Promise.resolve(hit);
    let p = this.#loading.get(key);
    if (!p) {
      p = this.#decode(path, downscale).then(
        (d) => {
          this.#loading.delete(key);
          this.#cache.set(key, d);
          return d;
        },
        (e: unknown) => {
          this.#loading.delete(key);
          throw e;
        },
      );
      this.#loading.set(key, p);
    }
    return p;
  }

  async #sample(e: CheckedEntry, rng: Generator): Promise<Sample> {
    const o = this.options;
    const s = o.scale;
    const hrD = await this.#load(e.hr);
    const hrSize = decodedSize(hrD);
    let lrD: Decoded | null = null;
    let lrH: number;
    let lrW: number;
    if (e.lr) {
      lrD = await this.#load(e.lr, o.upsampledLR);
      const lrSize = decodedSize(lrD);
      // The header said they paired; check the decoded images too (files can change). An
      // upsampled LR was downscaled to floor(HR / s) on load and pairs by construction.
      if (!o.upsampledLR && (lrSize.height * s !== hrSize.height || lrSize.width * s !== hrSize.width)) {
        throw new DatasetFileError(`HR ${e.hr} (${hrSize.width}×${hrSize.height}) and LR ${e.lr} (${lrSize.width}×${lrSize.height} after loading) do not pair: HR must be ${s} × LR`, e.hr);
      }
      lrH = lrSize.height;
      lrW = lrSize.width;
    } else {
      lrH = Math.floor(hrSize.height / s);
      lrW = Math.floor(hrSize.width / s);
    }
    const ph = o.patch ?? lrH;
    const pw = o.patch ?? lrW;
    if (lrH < ph || lrW < pw) throw new DatasetFileError(`${e.lr ?? e.hr} is too small for ${ph}×${pw} LR patches (LR ${lrW}×${lrH})`, e.lr ?? e.hr);
    const top = o.randomCrop ? rng.nextInt(lrH - ph + 1) : Math.floor((lrH - ph) / 2);
    const left = o.randomCrop ? rng.nextInt(lrW - pw + 1) : Math.floor((lrW - pw) / 2);
    let hr = cropRgb(hrD, s * top, s * left, s * ph, s * pw);
    let lr: PlanarImage | null = lrD ? cropRgb(lrD, top, left, ph, pw) : null;
    if (o.augment) {
      const flips = { h: rng.next() < 0.5, v: rng.next() < 0.5, t: rng.next() < 0.5 };
      hr = orient(hr, flips);
      if (lr) lr = orient(lr, flips);
    }
    lr ??= await degrade(hr, s, o.degradation, rng);
    return { lr, hr, name: e.name };
  }

  /**
   * Sample i. With skipBad, an entry whose file turns out unusable when decoded (e.g. truncated)
   * is reported once and replaced by the next usable entry: deterministic, since whether a file
   * decodes does not depend on the thread.
   */
  async getAsync(i: number, rng: Generator): Promise<Sample> {
    if (!Number.isSafeInteger(i) || i < 0 || i >= this.length) throw new RangeError(`FileDataset: index ${i} out of range (length ${this.length})`);
    const start = rng.getState();
    let first: Error | null = null;
    for (let tries = 0; tries < this.length; tries++) {
      const e = this.entries[(i + tries) % this.length]!;
      rng.setState(start);
      try {
        return await this.#sample(e, rng);
      } catch (err) {
        if (!this.options.skipBad || !isBadFileError(err)) throw err;
        first ??= err;
        this.warn(badFileOf(err), `skipping ${badFileOf(err)}: ${err.message}`);
      }
    }
    throw new RangeError(`every image failed to load; the first: ${first!.message}`);
  }

  /** The synchronous interface: computes the sample on a private worker thread and waits. */
  get(i: number, rng: Generator): Sample {
    this.#syncPool ??= new WorkerPool(this.workerPlan(), 1, { onWarning: (f, m) => this.warn(f, m) });
    const r = this.#syncPool.runSync(i, rng.getState());
    rng.offset = r.offset;
    return r.sample;
  }

  /** Stop the worker get() uses (if any). The dataset stays usable. */
  async close(): Promise<void> {
    const p = this.#syncPool;
    this.#syncPool = null;
    await p?.close();
  }
}
