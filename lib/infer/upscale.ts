// upscale(): super-resolve an image with MPF-Net, tiled so memory stays bounded by the tile size,
// on a worker thread so the caller's event loop keeps turning (progress, AbortSignal).
//
//   input (path | encoded buffer | raw pixels | tensor)
//     -> source (stored samples, EXIF orientation applied)
//     -> windows of at most tile + 2·pad pixels, all the same size (tiles.ts)
//     -> model worker: MPF-Net per window, alpha by bicubic or the model   (upscale-worker.ts)
//     -> band accumulator: cosine cross-fades in the overlaps     (blend.ts)
//     -> [outscale: streaming MATLAB bicubic]                     (stream-resize.ts)
//     -> 8/16-bit samples or floats                               (pixels.ts)
//     -> Buffer in the input's format, a file (atomic), raw pixels, or a tensor.
//
// Full-resolution floats are never held for the whole image: only the band of output rows the
// current row of tiles covers. The output itself is held once, as 8- or 16-bit samples.
import { resolve } from 'node:path';
import { encodeImage, encodeImageToFile, formatFromPath, readImage, type ChannelCount, type Image, type ImageFormat } from '../io/image.js';
import { emptyCache, setNumThreads } from '../memory.js';
import type { MPFNet } from '../models/mpfnet/mpfnet.js';
import { tensor } from '../ops/creation.js';
import { Tensor } from '../tensor.js';
import { BandAccumulator } from './blend.js';
import { CancelledError, ModelWorker } from './model-worker.js';
import { checkInferencePrecision, effectiveInferencePrecision, type InferencePrecision } from './precision.js';
import { FloatSink, ImageSink, imageSource, planarSource, type PixelSource } from './pixels.js';
import { StreamingResizer, type RowSink } from './stream-resize.js';
import { defaultMargin, planTiles } from './tiles.js';
import type { AlphaMode, ModelSpec } from './worker-protocol.js';

/** Default tile (input pixels per side, before padding) and padding: ~0.5 GB peak for the default model. */
export const DEFAULT_TILE = 192;
/** Default context around each tile, in input pixels. */
export const DEFAULT_TILE_PAD = 16;

/** Raw pixels: interleaved samples, 8-bit (Uint8Array / Uint8ClampedArray) or 16-bit (Uint16Array). */
export interface RawPixels {
  data: Uint8Array | Uint8ClampedArray | Uint16Array;
  width: number;
  height: number;
  /** 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
}

/** What {@link upscale} takes: a file path, an encoded image, raw pixels or a tensor. */
export type UpscaleInput = string | Uint8Array | RawPixels | Tensor;

/** Progress of an upscale: tiles done of all tiles. */
export interface UpscaleProgress {
  tilesDone: number;
  tiles: number;
  /** Input and output sizes. */
  width: number;
  height: number;
  outWidth: number;
  outHeight: number;
}

/** Options that fix an {@link Upscaler}: the model, device, threads, tiling. */
export interface UpscalerOptions {
  /** An MPF-Net checkpoint (.safetensors, from `mpfnet init`, `train` or `demo`) or a live model. */
  model: string | MPFNet;
  /** From a training checkpoint: the trained ('model', default) or the averaged ('ema') weights. */
  weights?: 'model' | 'ema';
  /** 'auto' (default) is the CPU until the CUDA plugin exists. */
  device?: 'cpu' | 'cuda' | 'auto';
  /** CPU threads (process-wide; default MPFNET_NUM_THREADS or all CPUs). */
  threads?: number;
  /**
   * How much the model's convolutions may round for speed (docs/upscaling.md#precision): 'fp32'
   * (default: Winograd F(4×4) or F(6×6), output PSNR vs float64 ≥ 60 dB), 'bf16' (AVX512_BF16
   * products, PSNR vs 'fp32' ≥ 50 dB; runs as 'fp32' with a one-time warning where the CPU lacks
   * it) or 'strict' (the rounding of training). Set on the model worker's thread only.
   */
  precision?: InferencePrecision;
  /**
   * With device 'cuda': record the pass once per tile shape as a CUDA graph and replay it for every
   * tile (docs/cuda.md#cuda-graphs), which takes the host's per-op cost (~40 ms a pass) off the GPU's
   * path. Default false, like onnxruntime's enable_cuda_graph. A pass that cannot be recorded runs
   * as usual; cancellation then acts between tiles rather than between blocks. The recording takes in
   * any CUDA work the process queues meanwhile: keep other threads off the GPU during the first tile.
   */
  cudaGraph?: boolean;
}

/** Options of one upscale: output, format, alpha handling, cancellation, progress. */
export interface UpscaleRunOptions {
  /**
   * Input pixels per tile side at most, before padding (default 192); 0: the whole image at once.
   * Tiles are shrunk to the fewest pixels their number needs (docs/upscaling.md).
   */
  tile?: number;
  /** Context pixels on each side of a tile, blended away in the overlaps (default 16). */
  tilePad?: number;
  /** Final scale when it differs from the model's (e.g. 3.5 with a ×4 model): MATLAB bicubic of the output. */
  outscale?: number;
  signal?: AbortSignal;
  /** Called after each tile. */
  onProgress?: (p: UpscaleProgress) => void;
  /** Output format (default: the input's; raw pixels give raw pixels; a file: its extension). */
  format?: ImageFormat | 'raw';
  /** Write the result here (atomically) instead of returning it. */
  output?: string;
  /** Alpha: MATLAB bicubic (default) or through the model as a grey image. */
  alpha?: AlphaMode;
  /** JPEG / WebP quality (default 95). */
  quality?: number;
  /** Bit depth of the output (default: the input's where the format can store it). */
  bitDepth?: 8 | 16;
  /** Refuse inputs with more pixels (decompression bombs); false: no limit. */
  limitPixels?: number | false;
}

/** Options of the one-shot {@link upscale}: the upscaler's and the run's together. */
export type UpscaleOptions = UpscalerOptions & UpscaleRunOptions;

/** What an upscale written to a file returns. */
export interface UpscaleFileResult {
  path: string;
  width: number;
  height: number;
  outWidth: number;
  outHeight: number;
  channels: number;
  bitDepth: 8 | 16;
  format: ImageFormat;
  tiles: number;
  seconds: number;
}

/** How upscale() rejects when its AbortSignal fires. */
export class AbortError extends Error {
  override name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(message = 'the upscale was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}

const ENCODABLE: readonly string[] = ['png', 'jpeg', 'webp', 'tiff'];

function positiveInt(v: unknown, what: string, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (allowZero ? 0 : 1)) throw new RangeError(`upscale: ${what} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(v)}`);
  return v;
}

function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

function isRaw(x: unknown): x is RawPixels {
  return typeof x === 'object' && x !== null && !isTensor(x) && typeof (x as RawPixels).width === 'number' && (x as RawPixels).data !== undefined;
}

function rawToImage(r: RawPixels): Image {
  const { width, height, channels } = r;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) throw new RangeError(`upscale: raw pixels need a positive integer width and height, got ${width}×${height}`);
  if (![1, 2, 3, 4].includes(channels)) throw new RangeError(`upscale: raw pixels need 1 to 4 channels, got ${String(channels)}`);
  const sixteen = r.data instanceof Uint16Array;
  if (!sixteen && !(r.data instanceof Uint8Array) && !(r.data instanceof Uint8ClampedArray)) throw new TypeError('upscale: raw pixel data must be a Uint8Array, Uint8ClampedArray or Uint16Array');
  if (r.data.length !== width * height * channels) throw new RangeError(`upscale: raw pixel data has ${r.data.length} samples, expected ${width}×${height}×${channels} = ${width * height * channels}`);
  const data = sixteen ? (r.data as Uint16Array) : r.data instanceof Uint8ClampedArray ? new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.length) : (r.data as Uint8Array);
  return { data, width, height, channels, bitDepth: sixteen ? 16 : 8, format: 'raw', hasAlpha: channels === 2 || channels === 4 };
}

interface Resolved {
  source: PixelSource;
  kind: 'tensor' | 'raw' | 'encoded';
  /** The format the input came in (for 'encoded'). */
  format: string;
  bitDepth: 8 | 16;
}

async function resolveInput(input: UpscaleInput, o: UpscaleRunOptions): Promise<Resolved> {
  if (isTensor(input)) {
    const s = input.shape;
    if (!(s.length === 3 || (s.length === 4 && s[0] === 1))) throw new RangeError(`upscale: a tensor input must be [1, C, H, W] or [C, H, W], got [${s.join(', ')}]`);
    const [c, h, w] = s.slice(-3) as [number, number, number];
    if (c < 1 || c > 4) throw new RangeError(`upscale: a tensor input needs 1 to 4 channels (grey, grey+alpha, RGB, RGBA), got ${c}`);
    const cpu = input.device === 'cpu' ? input : input.to('cpu');
    const data = cpu.toFloat32Array();
    if (cpu !== input) cpu.dispose();
    return { source: planarSource(data, c, h, w), kind: 'tensor', format: 'raw', bitDepth: 16 };
  }
  if (typeof input === 'string' || (input instanceof Uint8Array && !isRaw(input))) {
    const img = await readImage(input, { limitPixels: o.limitPixels });
    return { source: imageSource(img), kind: 'encoded', format: img.format, bitDepth: img.bitDepth };
  }
  if (isRaw(input)) {
    const img = rawToImage(input);
    return { source: imageSource(img), kind: 'raw', format: 'raw', bitDepth: img.bitDepth };
  }
  throw new TypeError('upscale: input must be a file path, an encoded image (Buffer / Uint8Array), raw pixels {data, width, height, channels} or a Tensor');
}

/** What comes out: a tensor, raw pixels, or an encoded image (returned or written), and its depth. */
function chooseOutput(src: Resolved, o: UpscaleRunOptions): { format: ImageFormat | 'raw' | 'tensor'; bitDepth: 8 | 16 } {
  let format: ImageFormat | 'raw' | 'tensor';
  if (o.output !== undefined) {
    const f = o.format ?? formatFromPath(o.output);
    if (!f || f === 'raw') throw new TypeError(`upscale: cannot tell the output format of '${o.output}'; use .png, .jpg, .webp or .tif, or pass {format}`);
    format = f;
  } else if (src.kind === 'tensor') format = 'tensor';
  else format = o.format ?? (src.kind === 'raw' ? 'raw' : ENCODABLE.includes(src.format) ? (src.format as ImageFormat) : 'png');
  if (format !== 'tensor' && format !== 'raw' && !ENCODABLE.includes(format)) throw new RangeError(`upscale: format must be png, jpeg, webp, tiff or raw, got ${String(format)}`);
  // Refused before any work: JPEG has no alpha, JPEG and WebP no 16-bit samples.
  if (format === 'jpeg' && src.source.hasAlpha) throw new TypeError('upscale: JPEG cannot store the alpha channel of this image; write png, webp or tiff');
  const bitDepth: 8 | 16 = format === 'jpeg' || format === 'webp' ? 8 : (o.bitDepth ?? (src.kind === 'tensor' ? 8 : src.bitDepth));
  if (o.bitDepth === 16 && bitDepth !== 16) throw new RangeError(`upscale: ${format} cannot store 16-bit samples; use png or tiff`);
  return { format, bitDepth };
}

function modelSpec(model: unknown, weights: 'model' | 'ema'): ModelSpec {
  if (typeof model === 'string') return { kind: 'file', path: resolve(model), weights };
  const m = model as MPFNet | undefined;
  if (m && typeof m.namedParameters === 'function' && m.config) {
    const tensors: [string, number[], Float32Array][] = [...m.namedParameters()].map(([n, t]) => [n, [...t.shape], t.toFloat32Array()]);
    return { kind: 'weights', config: m.config, tensors };
  }
  throw new TypeError("upscale: 'model' is required: a checkpoint path (.safetensors) or an MPFNet. mpfnet ships no pretrained weights: train one (mpfnet train) or run `npx mpfnet demo`, which writes a small ×2 model");
}

function abortError(signal: AbortSignal): AbortError {
  const r: unknown = signal.reason;
  return r instanceof AbortError ? r : new AbortError('the upscale was aborted', { cause: r });
}

/** A loaded model on its worker thread, for upscaling many images; close() it when done. */
export class Upscaler {
  readonly #worker: ModelWorker;

  private constructor(worker: ModelWorker) {
    this.#worker = worker;
  }

  /** Load the model on a worker thread and return an upscaler that reuses it. */
  static async create(o: UpscalerOptions): Promise<Upscaler> {
    const weights = o.weights ?? 'model';
    if (weights !== 'model' && weights !== 'ema') throw new RangeError(`upscale: weights must be 'model' or 'ema', got ${String(weights)}`);
    const device = o.device ?? 'auto';
    if (device !== 'cpu' && device !== 'cuda' && device !== 'auto') throw new RangeError(`upscale: device must be cpu, cuda or auto, got ${String(device)}`);
    const precision = effectiveInferencePrecision(checkInferencePrecision(o.precision ?? 'fp32', 'upscale: precision'));
    if (o.threads !== undefined) setNumThreads(positiveInt(o.threads, 'threads'));
    const spec = modelSpec(o.model, weights);
    if (o.cudaGraph !== undefined && typeof o.cudaGraph !== 'boolean') throw new TypeError(`upscale: cudaGraph must be a boolean, got ${typeof o.cudaGraph}`);
    return new Upscaler(await ModelWorker.start(spec, device === 'cuda' ? 'cuda' : 'cpu', precision, o.cudaGraph === true));
  }

  /** The model's scale factor. */
  get scale(): 2 | 3 | 4 {
    return this.#worker.scale;
  }

  /** Upscale one input with the loaded model; the result follows the input's kind (see {@link upscale}). */
  upscale(input: Tensor, o: UpscaleRunOptions & { output: string }): Promise<UpscaleFileResult>;
  upscale(input: Tensor, o?: UpscaleRunOptions): Promise<Tensor>;
  upscale(input: string | Uint8Array | RawPixels, o: UpscaleRunOptions & { output: string }): Promise<UpscaleFileResult>;
  upscale(input: RawPixels, o?: UpscaleRunOptions & { format?: 'raw' }): Promise<Image>;
  upscale(input: string | Uint8Array | RawPixels, o?: UpscaleRunOptions): Promise<Buffer>;
  upscale(input: UpscaleInput, o?: UpscaleRunOptions): Promise<Tensor | Buffer | Image | UpscaleFileResult>;
  async upscale(input: UpscaleInput, o: UpscaleRunOptions = {}): Promise<Tensor | Buffer | Image | UpscaleFileResult> {
    const t0 = performance.now();
    const signal = o.signal;
    if (signal?.aborted) throw abortError(signal);
    const tile = positiveInt(o.tile ?? DEFAULT_TILE, 'tile', true);
    const pad = positiveInt(o.tilePad ?? DEFAULT_TILE_PAD, 'tilePad', true);
    const alphaMode = o.alpha ?? 'bicubic';
    if (alphaMode !== 'bicubic' && alphaMode !== 'model') throw new RangeError(`upscale: alpha must be 'bicubic' or 'model', got ${String(alphaMode)}`);
    if (o.outscale !== undefined && (typeof o.outscale !== 'number' || !Number.isFinite(o.outscale) || o.outscale <= 0)) throw new RangeError(`upscale: outscale must be a positive number, got ${String(o.outscale)}`);
    if (o.bitDepth !== undefined && o.bitDepth !== 8 && o.bitDepth !== 16) throw new RangeError(`upscale: bitDepth must be 8 or 16, got ${String(o.bitDepth)}`);

    const src = await resolveInput(input, o);
    const { source } = src;
    const { format, bitDepth } = chooseOutput(src, o);
    const s = this.#worker.scale;
    const { width: W, height: H } = source;
    const outH = o.outscale === undefined ? s * H : Math.max(1, Math.round(H * o.outscale));
    const outW = o.outscale === undefined ? s * W : Math.max(1, Math.round(W * o.outscale));
    const colour = source.grey ? 1 : 3;
    const channels = colour + (source.hasAlpha ? 1 : 0);
    const plan = planTiles(H, W, tile, pad);
    const sink = format === 'tensor' ? new FloatSink(outW, outH, channels) : new ImageSink(outW, outH, channels as ChannelCount, bitDepth);
    const chain: RowSink = outH === s * H && outW === s * W ? sink : new StreamingResizer(channels, [s * H, s * W], [outH, outW], sink);
    const acc = new BandAccumulator(plan, s, channels, defaultMargin(pad, s), chain);
    const progress = (tilesDone: number) => o.onProgress?.({ tilesDone, tiles: plan.count, width: W, height: H, outWidth: outW, outHeight: outH });

    // Cancellation: the worker stops within one block and is closed; this Upscaler is then closed.
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      void this.#worker.cancel();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      progress(0);
      const cells: [number, number][] = [];
      for (let i = 0; i < plan.rows.starts.length; i++) for (let j = 0; j < plan.cols.starts.length; j++) cells.push([i, j]);
      const submit = (k: number) => {
        const [i, j] = cells[k]!;
        const { rgb, alpha } = source.window(plan.rows.starts[i]!, plan.cols.starts[j]!, plan.rows.window, plan.cols.window);
        return this.#worker.run({ height: plan.rows.window, width: plan.cols.window, rgb, alpha, alphaMode, grey: source.grey });
      };
      // Two tiles in flight: the worker starts the next while this thread blends the last.
      const queue: Promise<Float32Array>[] = [];
      let next = 0;
      for (let k = 0; k < cells.length; k++) {
        while (queue.length < 2 && next < cells.length) {
          const p = submit(next++);
          p.catch(() => {}); // awaited below, in order; a failure of a later one must not go unhandled
          queue.push(p);
        }
        const out = await queue.shift()!;
        if (aborted) throw abortError(signal!);
        const [i, j] = cells[k]!;
        acc.add(i, j, out);
        progress(k + 1);
      }
    } catch (e) {
      if (aborted || e instanceof CancelledError) {
        // Reject only once the worker is gone and its tensors are freed.
        await this.#worker.cancel();
        if (signal?.aborted) throw abortError(signal);
      }
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }

    if (aborted) {
      await this.#worker.cancel();
      throw abortError(signal!);
    }
    if (format === 'tensor') {
      const data = (sink as FloatSink).data;
      const t = tensor(data, [1, channels, outH, outW]);
      return t;
    }
    const image = (sink as ImageSink).image;
    if (format === 'raw') return image;
    if (o.output !== undefined) {
      // Encoding cannot be interrupted, but an abort during it still leaves no file behind. The
      // encoder writes the file itself, so the encoded bytes are never held in memory.
      freeTileMemoryBeforeEncoding(image);
      await encodeImageToFile(o.output, image, { format, quality: o.quality, bitDepth }, () => {
        if (signal?.aborted) throw abortError(signal);
      });
      return { path: o.output, width: W, height: H, outWidth: outW, outHeight: outH, channels, bitDepth, format, tiles: plan.count, seconds: (performance.now() - t0) / 1000 };
    }
    return encodeImage(image, { format, quality: o.quality, bitDepth });
  }

  /** End the worker and free the model. Safe to call twice. */
  close(): Promise<void> {
    return this.#worker.close();
  }
}

/**
 * Upscale one image with MPF-Net (see docs/upscaling.md). The result follows the input: a Buffer
 * in the input's format for a path or an encoded buffer, raw pixels for raw pixels, a tensor for a
 * tensor; with `output`, a file (written atomically) and a summary.
 */
export function upscale(input: Tensor, o: UpscaleOptions & { output: string }): Promise<UpscaleFileResult>;
export function upscale(input: Tensor, o: UpscaleOptions): Promise<Tensor>;
export function upscale(input: string | Uint8Array | RawPixels, o: UpscaleOptions & { output: string }): Promise<UpscaleFileResult>;
export function upscale(input: RawPixels, o: UpscaleOptions & { format?: 'raw' }): Promise<Image>;
export function upscale(input: string | Uint8Array | RawPixels, o: UpscaleOptions): Promise<Buffer>;
export function upscale(input: UpscaleInput, o: UpscaleOptions): Promise<Tensor | Buffer | Image | UpscaleFileResult>;
export async function upscale(input: UpscaleInput, o: UpscaleOptions): Promise<Tensor | Buffer | Image | UpscaleFileResult> {
  if (o?.signal?.aborted) throw abortError(o.signal);
  const up = await Upscaler.create(o ?? ({} as UpscaleOptions));
  try {
    return await up.upscale(input, o);
  } finally {
    await up.close();
  }
}

/**
 * Before a large output is encoded, give the allocator's cache of tile-sized blocks back to the
 * system: the encoder's buffers come on top of the whole 8/16-bit result, and this is when the
 * process peaks (an 8192² RGB output is 201 MB). Small outputs keep the cache for the next image.
 */
function freeTileMemoryBeforeEncoding(image: Image): void {
  if (image.data.byteLength >= 64 * 2 ** 20) emptyCache();
}
