// mpfnet eval: PSNR / SSIM / NIQE / LPIPS of predictions against ground truth, per image and the
// mean, like the tables of SR papers (docs/model.md §4 conventions). Either --pred (files or a folder) vs
// --gt matched by name, or --model with --lr: the model super-resolves each LR image first.
// NIQE needs no ground truth: `mpfnet eval --pred dir --metrics niqe`.
import { existsSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { noGrad, tidy } from '../../autograd/scope.js';
import { imageToTensor, listImageFiles, readImage, type Image } from '../../io/image.js';
import { rgbToY } from '../../metrics/color.js';
import { niqeOfGrey } from '../../metrics/niqe.js';
import { cropBorder, toPlanes, type Planes } from '../../metrics/planes.js';
import { psnrPlanes } from '../../metrics/psnr.js';
import { ssimPlanes } from '../../metrics/ssim.js';
import type { Tensor } from '../../tensor.js';
import { EXIT, applyRuntimeOptions, examplesHelp, type CommandModule } from '../common.js';

export type MetricName = 'psnr' | 'ssim' | 'niqe' | 'lpips';
const ALL_METRICS: readonly MetricName[] = ['psnr', 'ssim', 'niqe', 'lpips'];
const NEEDS_GT: ReadonlySet<MetricName> = new Set(['psnr', 'ssim', 'lpips']);

interface EvalFlags {
  pred?: string;
  gt?: string;
  model?: string;
  lr?: string;
  weights: string;
  tile: string;
  tilePad: string;
  metrics: string;
  crop?: string;
  y?: boolean;
  json?: boolean;
  pattern?: string;
  lpipsWeights?: string;
  limitPixels: string;
  threads?: string;
  device?: string;
}

/**
 * The default matching key of a file: its name without the extension and without trailing
 * suffixes that name a role or a scale (_x4, _SR, _HR, _LR4, _gt, _lq, _bicubic, ...), so
 * baboon_lq_x4.png, baboon_SR.png and baboon_gt.png all match "baboon".
 */
const ROLE_SUFFIX = /(?:[_-](?:x\d+|sr|hr|lr\d*|gt|lq|bicubic|bic|out|output|pred|rlt|result))+$/i;

export function matchKey(file: string, pattern?: RegExp): string {
  const stem = basename(file, extname(file));
  const m = pattern?.exec(stem);
  // Names the pattern does not match fall back to the default rule.
  if (!m) return stem.replace(ROLE_SUFFIX, '') || stem;
  // With a capture group the group is the key; without one the match is cut out of the name.
  return m.length > 1 && m[1] !== undefined ? m[1] : stem.slice(0, m.index) + stem.slice(m.index + m[0].length);
}

function listInputs(path: string, what: string): string[] {
  if (!existsSync(path)) throw new TypeError(`eval: ${what} '${path}' does not exist`);
  if (statSync(path).isDirectory()) {
    const files = listImageFiles(path);
    if (!files.length) throw new TypeError(`eval: no images in ${what} folder '${path}'`);
    return files;
  }
  return [path];
}

export interface EvalPair {
  name: string;
  pred: string;
  gt: string | null;
}

/** Pairs of files matched by key; unmatched files are returned for a warning. */
export function pairFiles(preds: string[], gts: string[] | null, pattern?: RegExp): { pairs: EvalPair[]; unmatched: string[] } {
  if (!gts) return { pairs: preds.map((p) => ({ name: matchKey(p, pattern), pred: p, gt: null })), unmatched: [] };
  // A single file on each side is a pair whatever the names.
  if (preds.length === 1 && gts.length === 1) return { pairs: [{ name: matchKey(preds[0]!, pattern), pred: preds[0]!, gt: gts[0]! }], unmatched: [] };
  const byKey = new Map<string, string>();
  for (const g of gts) {
    const k = matchKey(g, pattern);
    if (byKey.has(k)) throw new TypeError(`eval: ground-truth files '${byKey.get(k)}' and '${g}' both match the name '${k}'; use --pattern`);
    byKey.set(k, g);
  }
  const pairs: EvalPair[] = [];
  const unmatched: string[] = [];
  const used = new Set<string>();
  for (const p of preds) {
    const k = matchKey(p, pattern);
    const g = byKey.get(k);
    if (!g) unmatched.push(p);
    else {
      if (used.has(g)) throw new TypeError(`eval: several predictions match '${g}' (name '${k}'); use --pattern`);
      used.add(g);
      pairs.push({ name: k, pred: p, gt: g });
    }
  }
  for (const g of gts) if (!used.has(g)) unmatched.push(g);
  return { pairs, unmatched };
}

export type MetricRow = { name: string; pred: string; gt: string | null } & Partial<Record<MetricName, number>> & { error?: string };

/** Scores a prediction image against its ground truth (or alone, for NIQE). */
export interface PairScorer {
  metrics: readonly MetricName[];
  score(pred: Image, gt: Image | null): Partial<Record<MetricName, number>>;
}

export interface ScorerOptions {
  metrics: readonly MetricName[];
  crop: number;
  y: boolean;
  /** LPIPS(pred, gt) on [1, 3, H, W] tensors in [0, 1] (from lib/metrics/lpips.ts). */
  lpips?: (pred: Tensor, gt: Tensor) => number;
}

/** The metric computations of `mpfnet eval` (also usable from code, e.g. validation). */
export function makeScorer(o: ScorerOptions): PairScorer {
  return {
    metrics: o.metrics,
    score(pred, gt) {
      const out: Partial<Record<MetricName, number>> = {};
      const p = cropBorder(toPlanes(pred, 'eval'), o.crop, 'eval');
      let g: Planes | null = null;
      if (gt) {
        g = cropBorder(toPlanes(gt, 'eval'), o.crop, 'eval');
        if (p.width !== g.width || p.height !== g.height || p.channels !== g.channels)
          throw new RangeError(`the prediction is ${pred.width}×${pred.height}×${p.channels} but the ground truth ${gt.width}×${gt.height}×${g.channels}`);
      }
      if (g && (o.metrics.includes('psnr') || o.metrics.includes('ssim'))) {
        const a = o.y ? rgbToY(p) : p;
        const b = o.y ? rgbToY(g) : g;
        if (o.metrics.includes('psnr')) out.psnr = psnrPlanes(a, b);
        if (o.metrics.includes('ssim')) out.ssim = ssimPlanes(a, b);
      }
      if (o.metrics.includes('niqe')) {
        const y = rgbToY(p, { round: true });
        out.niqe = niqeOfGrey(y.data, y.height, y.width);
      }
      if (g && o.metrics.includes('lpips') && o.lpips) {
        const f = o.lpips;
        out.lpips = noGrad(() =>
          tidy(() => {
            const tp = planesToTensor(p);
            const tg = planesToTensor(g);
            return f(tp, tg);
          }),
        );
      }
      return out;
    },
  };
}

function planesToTensor(p: Planes): Tensor {
  // LPIPS takes RGB: grey is replicated.
  const img: Image = {
    data: interleave(p),
    width: p.width,
    height: p.height,
    channels: p.channels as 1 | 3,
    bitDepth: 8,
    format: 'raw',
    hasAlpha: false,
  };
  return imageToTensor(img, { rgb: true });
}

function interleave(p: Planes): Uint8Array {
  const hw = p.width * p.height;
  const out = new Uint8Array(hw * p.channels);
  for (let c = 0; c < p.channels; c++) for (let i = 0; i < hw; i++) out[i * p.channels + c] = p.data[c * hw + i]!;
  return out;
}

/** Means over the rows with a finite value of each metric. */
export function meanRow(rows: MetricRow[], metrics: readonly MetricName[]): Partial<Record<MetricName, number>> {
  const mean: Partial<Record<MetricName, number>> = {};
  for (const m of metrics) {
    const v = rows.map((r) => r[m]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    if (v.length) mean[m] = v.reduce((a, b) => a + b, 0) / v.length;
  }
  return mean;
}

const DIGITS: Record<MetricName, number> = { psnr: 4, ssim: 4, niqe: 4, lpips: 4 };
const HEADER: Record<MetricName, string> = { psnr: 'PSNR', ssim: 'SSIM', niqe: 'NIQE', lpips: 'LPIPS' };

/** A plain-text table: one row per image and the mean, like the paper's tables. */
export function formatTable(rows: MetricRow[], metrics: readonly MetricName[], title: string): string {
  const nameW = Math.max(5, ...rows.map((r) => r.name.length));
  const fmt = (m: MetricName, v: number | undefined) => (v === undefined ? '-' : Number.isFinite(v) ? v.toFixed(DIGITS[m]) : v > 0 ? 'inf' : 'nan');
  const line = (name: string, vals: string[]) => name.padEnd(nameW) + vals.map((v) => v.padStart(10)).join('');
  const out = [title, line('image', metrics.map((m) => HEADER[m])), '-'.repeat(nameW + 10 * metrics.length)];
  for (const r of rows) out.push(r.error ? `${r.name.padEnd(nameW)}  error: ${r.error}` : line(r.name, metrics.map((m) => fmt(m, r[m]))));
  const mean = meanRow(rows.filter((r) => !r.error), metrics);
  out.push('-'.repeat(nameW + 10 * metrics.length));
  out.push(line('mean', metrics.map((m) => fmt(m, mean[m]))));
  return out.join('\n');
}

function parseMetrics(s: string): MetricName[] {
  const list = s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
  if (!list.length) throw new RangeError('--metrics must name at least one of psnr, ssim, niqe, lpips');
  for (const m of list) if (!ALL_METRICS.includes(m as MetricName)) throw new RangeError(`--metrics: unknown metric '${m}' (psnr, ssim, niqe, lpips)`);
  return [...new Set(list)] as MetricName[];
}

function jsonNumber(v: number | undefined): number | null | undefined {
  return v === undefined ? undefined : Number.isFinite(v) ? v : null;
}

/** The LPIPS scorer, loaded only when asked for (it reads a weights file). */
async function loadLpips(weights: string | undefined): Promise<(a: Tensor, b: Tensor) => number> {
  if (!weights) throw new TypeError('eval: --metrics lpips needs --lpips-weights <file.safetensors> (see docs/metrics.md for the converter)');
  const { LPIPS } = await import('../../metrics/lpips.js');
  const net = LPIPS.load(weights);
  return (a, b) => net.distance(a, b);
}

interface SuperResolver {
  scale: number;
  run(lr: Image): Promise<Image>;
  close(): Promise<void>;
}

/**
 * The --model hook: super-resolves each LR image exactly as `mpfnet upscale` does (tiled with
 * cosine-blended overlaps, on the upscaler's worker, memory bounded by the tile; output rounded to
 * the input's bit depth like a saved file). Imported lazily so that evaluating files never loads the
 * model code.
 */
async function loadSuperResolver(path: string, weights: 'model' | 'ema', device: 'cpu' | 'cuda', tile: number, tilePad: number): Promise<SuperResolver> {
  let mod: typeof import('../../infer/upscale.js');
  try {
    mod = await import('../../infer/upscale.js');
  } catch (e) {
    throw new Error(`eval: --model needs the MPF-Net inference code, which failed to load: ${(e as Error).message}`);
  }
  const up = await mod.Upscaler.create({ model: path, weights, device });
  return {
    scale: up.scale,
    run: (lr) => up.upscale({ data: lr.data, width: lr.width, height: lr.height, channels: lr.channels }, { format: 'raw', tile, tilePad }),
    close: () => up.close(),
  };
}

export const evalCommand: CommandModule = {
  register(program: Command, setExit) {
    program
      .command('eval')
      .description('PSNR / SSIM / NIQE / LPIPS per image and the mean (BasicSR / MATLAB conventions)')
      .option('--pred <path>', 'predicted image or folder')
      .option('--gt <path>', 'ground-truth image or folder (matched to --pred / --lr by name)')
      .option('--model <checkpoint>', 'super-resolve --lr with this MPF-Net checkpoint and evaluate the outputs')
      .option('--lr <path>', 'low-resolution image or folder (with --model)')
      .option('--weights <which>', "with --model and a training checkpoint: 'model' or 'ema'", 'model')
      .option('--tile <n>', 'with --model: at most this many LR pixels per tile side, as in mpfnet upscale (0: the whole image at once)', '192')
      .option('--tile-pad <n>', 'with --model: overlap pixels on each side of a tile', '16')
      .option('--metrics <list>', 'comma-separated: psnr, ssim, niqe, lpips', 'psnr,ssim')
      .option('--crop <n>', 'pixels removed from every side first (default: 0; with --model: the scale)')
      .option('--y', 'PSNR / SSIM on the Y channel (BT.601) instead of RGB')
      .option('--pattern <regex>', 'name matching: where it matches a file name (without extension), its first capture group, or the name with the match cut out, is the key')
      .option('--lpips-weights <file>', 'LPIPS weights (.safetensors; see docs/metrics.md)')
      .option('--limit-pixels <n>', 'refuse inputs with more pixels (0: no limit)', '268402689')
      .option('--json', 'print {images, mean, options} as JSON')
      .option('--device <device>', 'cpu, cuda or auto (for --model)', 'auto')
      .option('--threads <n>', 'CPU threads (default: MPFNET_NUM_THREADS or all CPUs)')
      .addHelpText(
        'after',
        examplesHelp([
          'mpfnet eval --pred results/ --gt hr/ --crop 4 --y',
          'mpfnet eval --model m.safetensors --lr lr/ --gt hr/ --metrics psnr,ssim,niqe --json',
          'mpfnet eval --pred photos/ --metrics niqe',
        ]),
      )
      .action(async (o: EvalFlags) => {
        const device = applyRuntimeOptions(o);
        const metrics = parseMetrics(o.metrics);
        const limitPixels = Number(o.limitPixels);
        if (!Number.isInteger(limitPixels) || limitPixels < 0) throw new RangeError(`--limit-pixels must be a non-negative integer, got ${o.limitPixels}`);
        if (o.model ? o.pred !== undefined || o.lr === undefined : o.pred === undefined || o.lr !== undefined)
          throw new TypeError('eval: give --pred [--gt], or --model with --lr [--gt]');
        if (!o.gt && metrics.some((m) => NEEDS_GT.has(m))) throw new TypeError(`eval: ${metrics.filter((m) => NEEDS_GT.has(m)).join(', ')} need --gt (only niqe works without ground truth)`);
        if (o.weights !== 'model' && o.weights !== 'ema') throw new RangeError(`--weights must be model or ema, got ${o.weights}`);
        let pattern: RegExp | undefined;
        if (o.pattern !== undefined) {
          try {
            pattern = new RegExp(o.pattern);
          } catch (e) {
            throw new RangeError(`--pattern is not a valid regular expression: ${(e as Error).message}`);
          }
        }
        const sources = listInputs((o.model ? o.lr : o.pred)!, o.model ? '--lr' : '--pred');
        const gts = o.gt ? listInputs(o.gt, '--gt') : null;
        const { pairs, unmatched } = pairFiles(sources, gts, pattern);
        for (const u of unmatched) console.error(`mpfnet eval: warning: no partner for '${u}'`);
        if (!pairs.length) throw new TypeError('eval: no files matched by name between the inputs and --gt; check the names or use --pattern');

        const tile = Number(o.tile);
        const tilePad = Number(o.tilePad);
        if (!Number.isInteger(tile) || tile < 0) throw new RangeError(`--tile must be a non-negative integer, got ${o.tile}`);
        if (!Number.isInteger(tilePad) || tilePad < 0) throw new RangeError(`--tile-pad must be a non-negative integer, got ${o.tilePad}`);
        const sr = o.model ? await loadSuperResolver(o.model, o.weights, device, tile, tilePad) : null;
        try {
          const crop = o.crop !== undefined ? Number(o.crop) : (sr?.scale ?? 0);
          if (!Number.isInteger(crop) || crop < 0) throw new RangeError(`--crop must be a non-negative integer, got ${o.crop}`);
          const lpips = metrics.includes('lpips') ? await loadLpips(o.lpipsWeights) : undefined;
          const scorer = makeScorer({ metrics, crop, y: !!o.y, lpips });
          const rows: MetricRow[] = [];
          for (const p of pairs) {
            const row: MetricRow = { name: p.name, pred: p.pred, gt: p.gt };
            try {
              let pred = await readImage(p.pred, { limitPixels });
              if (sr) pred = await sr.run(pred);
              const gt = p.gt ? await readImage(p.gt, { limitPixels }) : null;
              Object.assign(row, scorer.score(pred, gt));
            } catch (e) {
              row.error = (e as Error).message;
            }
            rows.push(row);
          }
          const failed = rows.filter((r) => r.error);
          const mean = meanRow(rows.filter((r) => !r.error), metrics);
          if (o.json) {
            const images = rows.map((r) => ({ name: r.name, pred: r.pred, gt: r.gt, ...Object.fromEntries(metrics.map((m) => [m, jsonNumber(r[m])])), ...(r.error ? { error: r.error } : {}) }));
            const meanOut = Object.fromEntries(metrics.map((m) => [m, jsonNumber(mean[m]) ?? null]));
            console.log(JSON.stringify({ images, mean: meanOut, count: rows.length - failed.length, failed: failed.length, options: { metrics, crop, y: !!o.y, model: o.model ?? null } }));
          } else {
            const what = `${o.y ? 'Y' : 'RGB'}, crop ${crop}${o.model ? `, model ${o.model}` : ''}`;
            console.log(formatTable(rows, metrics, `${rows.length - failed.length} image${rows.length - failed.length === 1 ? '' : 's'} (${what})`));
          }
          for (const r of failed) console.error(`mpfnet eval: ${r.name}: ${r.error}`);
          setExit(failed.length ? EXIT.failure : EXIT.ok);
        } finally {
          await sr?.close();
        }
      });
  },
};
