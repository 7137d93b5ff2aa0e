// Upscale a file or every image of a folder with one loaded model. Each image is written
// atomically (a crash or Ctrl-C never leaves a partial file), a failing image is recorded and the
// rest go on, and images whose output exists can be skipped (resuming an interrupted batch).
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { listImageFiles, type ImageFormat } from '../io/image.js';
import { AbortError, Upscaler, type UpscaleFileResult, type UpscaleProgress, type UpscaleRunOptions, type UpscalerOptions } from './upscale.js';

/** Progress of {@link upscaleFolder}: an image started, its tiles, and its outcome. */
export type FolderEvent =
  | { type: 'start'; total: number }
  | { type: 'image'; index: number; total: number; input: string; output: string }
  | { type: 'tiles'; index: number; total: number; input: string; progress: UpscaleProgress }
  | { type: 'done'; index: number; total: number; input: string; result: UpscaleFileResult }
  | { type: 'skipped'; index: number; total: number; input: string; output: string }
  | { type: 'failed'; index: number; total: number; input: string; output: string; error: Error };

/** Options of {@link upscaleFolder}: the upscaler's and the run's, plus folder handling. */
export interface FolderOptions extends UpscalerOptions, Omit<UpscaleRunOptions, 'output' | 'onProgress'> {
  /** Leave images whose output file exists alone. */
  skipExisting?: boolean;
  /** Receives an event per image and tile. */
  onEvent?: (e: FolderEvent) => void;
}

/** What {@link upscaleFolder} did: per-image results and counts. */
export interface FolderResult {
  done: (UpscaleFileResult & { input: string })[];
  skipped: { input: string; output: string }[];
  failed: { input: string; output: string; error: Error }[];
  seconds: number;
}

const EXTENSION: Record<ImageFormat, string> = { png: '.png', jpeg: '.jpg', webp: '.webp', tiff: '.tif' };

/** (input, output) pairs: a file to a file (or into a folder), a folder's images into a folder. */
export function planJobs(input: string, output: string, format?: ImageFormat): [string, string][] {
  if (!existsSync(input)) throw new TypeError(`upscale: '${input}' does not exist`);
  const rename = (f: string) => (format ? basename(f, extname(f)) + EXTENSION[format] : basename(f));
  if (statSync(input).isDirectory()) {
    if (resolve(input) === resolve(output)) throw new TypeError(`upscale: the output folder is the input folder '${input}'; choose another so the originals are not overwritten`);
    if (existsSync(output) && !statSync(output).isDirectory()) throw new TypeError(`upscale: the input is a folder, so the output '${output}' must be a folder too`);
    const files = listImageFiles(input);
    if (!files.length) throw new TypeError(`upscale: no images in '${input}'`);
    return files.map((f) => [f, join(output, rename(f))]);
  }
  // A file into a folder: an existing folder, or a path ending with a separator.
  const intoFolder = output.endsWith('/') || output.endsWith(sep) || (existsSync(output) && statSync(output).isDirectory());
  return [[input, intoFolder ? join(output, rename(input)) : output]];
}

/** Upscale `input` (a file or a folder) into `output`; see FolderResult for what happened. */
export async function upscaleFolder(input: string, output: string, o: FolderOptions): Promise<FolderResult> {
  const t0 = performance.now();
  const jobs = planJobs(input, output, o.format === 'raw' ? undefined : o.format);
  if (o.format === 'raw') throw new TypeError("upscale: format 'raw' is for the API; files need png, jpeg, webp or tiff");
  const emit = o.onEvent ?? (() => {});
  const result: FolderResult = { done: [], skipped: [], failed: [], seconds: 0 };
  const total = jobs.length;
  emit({ type: 'start', total });
  const todo = jobs.filter(([inp, out], index) => {
    if (!o.skipExisting || !existsSync(out)) return true;
    result.skipped.push({ input: inp, output: out });
    emit({ type: 'skipped', index, total, input: inp, output: out });
    return false;
  });
  if (todo.length) {
    for (const d of new Set(todo.map(([, out]) => dirname(out)))) mkdirSync(d, { recursive: true });
    if (o.signal?.aborted) throw new AbortError();
    const up = await Upscaler.create(o);
    try {
      for (const [inp, out] of todo) {
        const index = jobs.findIndex(([i]) => i === inp);
        emit({ type: 'image', index, total, input: inp, output: out });
        try {
          const r = await up.upscale(inp, {
            ...o,
            output: out,
            onProgress: (progress) => emit({ type: 'tiles', index, total, input: inp, progress }),
          });
          result.done.push({ input: inp, ...r });
          emit({ type: 'done', index, total, input: inp, result: r });
        } catch (e) {
          if (e instanceof AbortError || o.signal?.aborted) throw e;
          const error = e instanceof Error ? e : new Error(String(e));
          result.failed.push({ input: inp, output: out, error });
          emit({ type: 'failed', index, total, input: inp, output: out, error });
        }
      }
    } finally {
      await up.close();
    }
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
