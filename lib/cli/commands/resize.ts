// mpfnet resize: MATLAB-compatible imresize of an image file (or every image of a folder), e.g. to
// make bicubic LR inputs or the bicubic baseline. Computed in float64 on the stored integer scale,
// so an 8-bit result is exactly MATLAB's imresize of the uint8 image.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { noGrad, tidy } from '../../autograd/scope.js';
import { formatFromPath, imageToTensor, listImageFiles, readImage, tensorToImage, writeImage, type ImageFormat } from '../../io/image.js';
import { mulScalar } from '../../ops/unary.js';
import { imresize, type ImresizeOptions, type ResizeKernel } from '../../ops/resize.js';
import { EXIT, applyRuntimeOptions, examplesHelp, type CommandModule } from '../common.js';

interface ResizeFlags {
  out: string;
  scale?: string;
  size?: string;
  kernel: string;
  antialias: boolean;
  bitDepth?: string;
  quality?: string;
  format?: string;
  limitPixels?: string;
  threads?: string;
  device?: string;
  quiet?: boolean;
}

/** "WxH" (or "W×H", "W,H") -> [h, w]. */
export function parseSizeWxH(s: string, flag = '--size'): [number, number] {
  const m = /^\s*(\d+)\s*[x×,]\s*(\d+)\s*$/.exec(s);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new RangeError(`${flag} must be WIDTHxHEIGHT with positive integers, e.g. 480x320, got ${JSON.stringify(s)}`);
  return [Number(m[2]), Number(m[1])];
}

function positive(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${flag} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

export const resizeCommand: CommandModule = {
  register(program: Command, setExit) {
    program
      .command('resize')
      .description('MATLAB-compatible imresize (bicubic, antialiased when shrinking) of an image or a folder of images')
      .argument('<input>', 'image file or folder')
      .requiredOption('-o, --out <path>', 'output file (or folder, for a folder input)')
      .option('--scale <s>', 'scale factor, e.g. 4 or 0.25 (output = ceil(input × s))')
      .option('--size <WxH>', 'output width × height instead of --scale')
      .option('--kernel <k>', 'cubic, linear, box, lanczos2, lanczos3 or nearest', 'cubic')
      .option('--no-antialias', 'do not widen the kernel when shrinking')
      .option('--bit-depth <b>', '8 or 16 (default: the input’s; JPEG/WebP: 8)')
      .option('--quality <q>', 'JPEG / WebP quality 1-100', '95')
      .option('--format <f>', 'png, jpeg, webp or tiff (default: from the output extension; for folders: the input’s)')
      .option('--limit-pixels <n>', 'refuse inputs with more pixels (0: no limit)', '268402689')
      .option('--threads <n>', 'CPU threads (default: MPFNET_NUM_THREADS or all CPUs)')
      .option('--device <device>', 'cpu, cuda or auto', 'auto')
      .option('-q, --quiet', 'print nothing on success')
      .addHelpText('after', examplesHelp(['mpfnet resize hr.png -o lr_x4.png --scale 0.25', 'mpfnet resize lr/ -o bicubic/ --scale 4', 'mpfnet resize photo.jpg -o small.png --size 640x480 --kernel lanczos3']))
      .action(async (input: string, o: ResizeFlags) => {
        const device = applyRuntimeOptions({ threads: o.threads, device: o.device });
        if ((o.scale === undefined) === (o.size === undefined)) throw new TypeError('resize: give exactly one of --scale and --size');
        const opts: ImresizeOptions = o.scale !== undefined ? { scale: positive(o.scale, '--scale') } : { size: parseSizeWxH(o.size!) };
        opts.kernel = o.kernel as ResizeKernel;
        opts.antialias = o.kernel === 'nearest' && o.antialias ? undefined : o.antialias;
        const bitDepth = o.bitDepth === undefined ? undefined : Number(o.bitDepth);
        if (bitDepth !== undefined && bitDepth !== 8 && bitDepth !== 16) throw new RangeError(`--bit-depth must be 8 or 16, got ${o.bitDepth}`);
        const quality = Number(o.quality);
        const limitPixels = Number(o.limitPixels);
        if (!Number.isInteger(limitPixels) || limitPixels < 0) throw new RangeError(`--limit-pixels must be a non-negative integer, got ${o.limitPixels}`);
        const format = o.format as ImageFormat | undefined;
        if (format !== undefined && !['png', 'jpeg', 'webp', 'tiff'].includes(format)) throw new RangeError(`--format must be png, jpeg, webp or tiff, got ${o.format}`);

        let jobs: [string, string][];
        if (existsSync(input) && statSync(input).isDirectory()) {
          mkdirSync(o.out, { recursive: true });
          jobs = listImageFiles(input).map((f) => [f, join(o.out, basename(f))]);
          if (!jobs.length) throw new TypeError(`resize: no images in '${input}'`);
        } else {
          jobs = [[input, o.out]];
        }
        let failed = 0;
        for (const [src, dst] of jobs) {
          try {
            const img = await readImage(src, { limitPixels });
            const fmt = format ?? formatFromPath(dst) ?? formatFromPath(src);
            // Round once, straight to the bit depth that will be written.
            const depth = bitDepth ?? (fmt === 'jpeg' || fmt === 'webp' ? 8 : img.bitDepth);
            const rescale = depth === img.bitDepth ? 1 : (depth === 16 ? 65535 : 255) / (img.bitDepth === 16 ? 65535 : 255);
            const out = noGrad(() =>
              tidy(() => {
                const y = imresize(imageToTensor(img, { dtype: 'float64', raw: true, device }), opts);
                return tensorToImage(rescale === 1 ? y : mulScalar(y, rescale), { raw: true, bitDepth: depth });
              }),
            );
            await writeImage(dst, out, { bitDepth: depth, quality, format: fmt ?? undefined });
            if (!o.quiet) console.log(`${src} (${img.width}×${img.height}) -> ${dst} (${out.width}×${out.height})`);
          } catch (e) {
            if (jobs.length === 1) throw e;
            failed++;
            console.error(`mpfnet resize: ${(e as Error).message}`);
          }
        }
        setExit(failed ? EXIT.failure : EXIT.ok);
      });
  },
};
