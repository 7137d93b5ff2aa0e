// mpfnet upscale <file|dir> -o <file|dir> --model m.safetensors: super-resolve images, tiled, on
// a worker thread. A progress bar (images and tiles) on a terminal; one line per image otherwise.
// A failing image is reported and the rest go on; the exit code is then 1.
import type { Command } from 'commander';
import type { ImageFormat } from '../../io/image.js';
import { upscaleFolder, type FolderEvent } from '../../infer/folder.js';
import { bf16Supported, checkInferencePrecision } from '../../infer/precision.js';
import { AbortError, DEFAULT_TILE, DEFAULT_TILE_PAD } from '../../infer/upscale.js';
import { EXIT, applyRuntimeOptions, formatDuration, integerFlag, withExamples, withRuntimeOptions, type CommandModule } from '../common.js';

interface UpscaleFlags {
  out: string;
  model?: string;
  weights: string;
  tile: string;
  tilePad: string;
  outscale?: string;
  format?: string;
  quality: string;
  alpha: string;
  bitDepth?: string;
  skipExisting?: boolean;
  limitPixels: string;
  json?: boolean;
  quiet?: boolean;
  device?: string;
  threads?: string;
  precision: string;
  cudaGraph?: boolean;
}

const NO_MODEL =
  'upscale: --model <checkpoint.safetensors> is required. mpfnet ships no pretrained weights: `npx mpfnet demo` trains a small ×2 model in a few minutes ' +
  '(it writes mpfnet-demo/model.safetensors), or train your own with `mpfnet train` (docs/training.md).';

/** Renders folder events: a redrawn two-part bar on a TTY, plain lines otherwise. */
class UpscalePrinter {
  #shown = false;
  constructor(
    readonly tty: boolean,
    readonly quiet: boolean,
    readonly write: (s: string) => void = (s) => process.stderr.write(s),
  ) {}

  #clear(): void {
    if (this.#shown) this.write('\r\x1b[2K');
    this.#shown = false;
  }

  #line(s: string): void {
    this.#clear();
    this.write(s + '\n');
  }

  handle(e: FolderEvent): void {
    switch (e.type) {
      case 'tiles': {
        if (!this.tty || this.quiet) return;
        const p = e.progress;
        const width = 20;
        const done = Math.round((width * p.tilesDone) / p.tiles);
        const bar = '█'.repeat(done) + '░'.repeat(width - done);
        const name = e.input.length > 40 ? '…' + e.input.slice(-39) : e.input;
        this.write(`\r\x1b[2K[${e.index + 1}/${e.total}] ${name} ${bar} tile ${p.tilesDone}/${p.tiles}`);
        this.#shown = true;
        return;
      }
      case 'done':
        if (!this.quiet) {
          const r = e.result;
          this.#line(`[${e.index + 1}/${e.total}] ${e.input} (${r.width}×${r.height}) -> ${r.path} (${r.outWidth}×${r.outHeight}, ${r.tiles} tile${r.tiles === 1 ? '' : 's'}, ${formatDuration(r.seconds)})`);
        }
        return;
      case 'skipped':
        if (!this.quiet) this.#line(`[${e.index + 1}/${e.total}] ${e.input}: skipped, ${e.output} exists`);
        return;
      case 'failed':
        this.#line(`[${e.index + 1}/${e.total}] ${e.input}: FAILED: ${e.error.message}`);
        return;
      default:
        return;
    }
  }

  finish(): void {
    this.#clear();
  }
}

export const upscaleCommand: CommandModule = {
  register(program: Command, setExit) {
    const cmd = program
      .command('upscale')
      .description('super-resolve an image or every image of a folder with an MPF-Net checkpoint (tiled, seam-free, bounded memory)')
      .argument('<input>', 'image file or folder of images')
      .requiredOption('-o, --out <path>', 'output file, or folder (for a folder input, or to keep the input name)')
      .option('-m, --model <checkpoint>', 'MPF-Net checkpoint (.safetensors from mpfnet init / train / demo)')
      .option('--weights <which>', "from a training checkpoint: 'model' or 'ema'", 'model')
      .option('--tile <n>', 'at most this many input pixels per tile side before padding; 0: the whole image at once (more memory)', String(DEFAULT_TILE))
      .option('--tile-pad <n>', 'context pixels around each tile, cross-faded in the overlaps', String(DEFAULT_TILE_PAD))
      .option('--outscale <s>', "final scale when it differs from the model's (MATLAB bicubic of the output), e.g. 3.5")
      .option('--format <f>', 'png, jpeg, webp or tiff (default: from the output name, or the input’s format)')
      .option('--quality <q>', 'JPEG / WebP quality 1-100', '95')
      .option('--alpha <mode>', "alpha channel: 'bicubic' or 'model' (through the network as grey)", 'bicubic')
      .option('--bit-depth <b>', '8 or 16 (default: the input’s where the format can store it)')
      .option('--skip-existing', 'leave images whose output already exists')
      .option('--limit-pixels <n>', 'refuse inputs with more pixels (0: no limit)', '268402689')
      .option('--precision <p>', "convolution rounding: 'fp32' (Winograd F(4×4)/F(6×6), ≥ 60 dB vs float64), 'bf16' (AVX512_BF16, ≥ 50 dB vs fp32) or 'strict' (as in training)", 'fp32')
      .option('--cuda-graph', "with --device cuda: record each tile shape's pass once as a CUDA graph and replay it (docs/cuda.md)")
      .option('--json', 'print {images, done, skipped, failed, seconds} as JSON (no progress output)')
      .option('-q, --quiet', 'print only failures');
    withExamples(
      withRuntimeOptions(cmd),
      [
        'mpfnet upscale photo.png -o photo_x4.png --model model.safetensors',
        'mpfnet upscale photos/ -o big/ --model model.safetensors --skip-existing',
        'mpfnet upscale scan.tif -o scan.png --model model.safetensors --tile 128 --outscale 3.5',
        'mpfnet upscale logo.png -o out/ --model mpfnet-demo/model.safetensors --alpha model --json',
        'mpfnet upscale photo.png -o photo_x4.png --model model.safetensors --precision bf16',
      ],
      'There are no bundled pretrained weights: `mpfnet demo` trains a small ×2 model, `mpfnet train` a real one.\n' +
        'Memory grows with --tile (about 0.5 GB at the default 192 for the default model); seams: raise --tile-pad.\n' +
        'Exit code 1: some images failed (listed at the end; the others are written).',
    )
      .action(async (input: string, o: UpscaleFlags) => {
        const device = applyRuntimeOptions(o);
        if (!o.model) throw new TypeError(NO_MODEL);
        if (o.weights !== 'model' && o.weights !== 'ema') throw new RangeError(`--weights must be model or ema, got ${o.weights}`);
        const tile = integerFlag(o.tile, '--tile', 0);
        const tilePad = integerFlag(o.tilePad, '--tile-pad', 0);
        let outscale: number | undefined;
        if (o.outscale !== undefined) {
          outscale = Number(o.outscale);
          if (!Number.isFinite(outscale) || outscale <= 0) throw new RangeError(`--outscale must be a positive number, got ${JSON.stringify(o.outscale)}`);
        }
        const format = o.format === 'jpg' ? 'jpeg' : (o.format as ImageFormat | undefined);
        if (format !== undefined && !['png', 'jpeg', 'webp', 'tiff'].includes(format)) throw new RangeError(`--format must be png, jpeg, webp or tiff, got ${o.format}`);
        const quality = integerFlag(o.quality, '--quality', 1);
        if (quality > 100) throw new RangeError(`--quality must be in 1..100, got ${o.quality}`);
        if (o.alpha !== 'bicubic' && o.alpha !== 'model') throw new RangeError(`--alpha must be bicubic or model, got ${o.alpha}`);
        const bitDepth = o.bitDepth === undefined ? undefined : Number(o.bitDepth);
        if (bitDepth !== undefined && bitDepth !== 8 && bitDepth !== 16) throw new RangeError(`--bit-depth must be 8 or 16, got ${o.bitDepth}`);
        const limitPixels = integerFlag(o.limitPixels, '--limit-pixels', 0);
        let precision = checkInferencePrecision(o.precision, '--precision');
        if (precision === 'bf16' && !bf16Supported()) {
          process.stderr.write('mpfnet upscale: this CPU has no AVX512_BF16 (or MPFNET_SIMD is below avx512): --precision bf16 runs as fp32\n');
          precision = 'fp32';
        }

        const printer = new UpscalePrinter(!o.json && !!process.stderr.isTTY, !!o.quiet || !!o.json);
        const controller = new AbortController();
        let interrupts = 0;
        const onSignal = () => {
          if (++interrupts > 1) process.exit(EXIT.aborted);
          controller.abort();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const r = await upscaleFolder(input, o.out, {
            model: o.model,
            weights: o.weights,
            device,
            tile,
            tilePad,
            outscale,
            format,
            quality,
            alpha: o.alpha,
            bitDepth,
            limitPixels: limitPixels || false,
            precision,
            cudaGraph: !!o.cudaGraph,
            skipExisting: !!o.skipExisting,
            signal: controller.signal,
            onEvent: (e) => printer.handle(e),
          });
          printer.finish();
          if (o.json) {
            const images = [
              ...r.done.map((d) => ({ status: 'done', ...d, output: d.path })),
              ...r.skipped.map((x) => ({ status: 'skipped', ...x })),
              ...r.failed.map((f) => ({ status: 'failed', input: f.input, output: f.output, error: f.error.message })),
            ];
            console.log(JSON.stringify({ images, done: r.done.length, skipped: r.skipped.length, failed: r.failed.length, seconds: r.seconds }));
          } else if (!o.quiet || r.failed.length) {
            const parts = [`${r.done.length} upscaled`, ...(r.skipped.length ? [`${r.skipped.length} skipped`] : []), ...(r.failed.length ? [`${r.failed.length} failed`] : [])];
            process.stderr.write(`${parts.join(', ')} in ${formatDuration(r.seconds)}\n`);
          }
          if (r.failed.length) {
            process.stderr.write(`failed:\n${r.failed.map((f) => `  ${f.input}: ${f.error.message}`).join('\n')}\n`);
            setExit(EXIT.failure);
          } else {
            setExit(EXIT.ok);
          }
        } catch (e) {
          printer.finish();
          if (e instanceof AbortError) {
            process.stderr.write('mpfnet upscale: interrupted (finished images are kept; run again with --skip-existing to continue)\n');
            setExit(EXIT.aborted);
            return;
          }
          throw e;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      });
  },
};
