// Image files in and out, through sharp (libvips). Decoding returns the stored sample values
// exactly (8- or 16-bit, interleaved HWC), after applying the EXIF orientation; conversions to and
// from NCHW float tensors in [0, 1] sit beside it. Embedded ICC profiles are ignored by default:
// OpenCV and PIL, which the published SR numbers were computed with, read raw values too.
import sharp, { type Sharp } from 'sharp';
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { tensor } from '../ops/creation.js';
import type { DType, Device, Tensor } from '../tensor.js';
import { writeFileAtomicWith } from './atomic-write.js';
import { ImageError, type ImageErrorCode } from './image-error.js';

/** sharp's own default: 0x3FFF × 0x3FFF pixels. */
export const DEFAULT_PIXEL_LIMIT = 268_402_689;

/** Image file formats mpfnet writes. */
export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'tiff';
/** Channels of an image: grey, grey + alpha, RGB, RGBA. */
export type ChannelCount = 1 | 2 | 3 | 4;

/** A decoded image: samples interleaved per pixel (HWC), rows top to bottom. */
export interface Image {
  /** Uint8Array for 8-bit images, Uint16Array for 16-bit ones; length width·height·channels. */
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  /** 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
  channels: ChannelCount;
  bitDepth: 8 | 16;
  /** The decoded file's format ('png', 'jpeg', 'webp', 'tiff', ...), 'raw' for images made in memory. */
  format: string;
  hasAlpha: boolean;
}

export { ImageError, type ImageErrorCode } from './image-error.js';

/** Options of {@link readImage}. */
export interface ReadImageOptions {
  /** Refuse images with more pixels than this (decompression bombs); 0 or false: no limit. */
  limitPixels?: number | false;
  /** Apply the EXIF orientation (default true), as a viewer shows the image. */
  autoOrient?: boolean;
  /** Convert from an embedded ICC profile to sRGB (default false: the stored values). */
  applyIcc?: boolean;
  /** The name errors use for buffer input (default '<buffer>'). */
  name?: string;
}

function describeSource(src: string | Uint8Array, name?: string): string {
  return typeof src === 'string' ? src : (name ?? '<buffer>');
}

function classify(message: string): ImageErrorCode {
  if (/missing|ENOENT|no such file/i.test(message)) return 'NOT_FOUND';
  if (/pixel limit/i.test(message)) return 'TOO_LARGE';
  if (/premature end|truncat|read error|end of (file|stream)|Not enough data|short read/i.test(message)) return 'TRUNCATED';
  if (/unsupported image format/i.test(message)) return 'UNSUPPORTED';
  return 'CORRUPT';
}

const WHAT: Record<ImageErrorCode, string> = {
  NOT_FOUND: 'the file does not exist',
  CORRUPT: 'the file is corrupt or not an image',
  TRUNCATED: 'the file is truncated or damaged',
  UNSUPPORTED: 'not an image format this build reads (PNG, JPEG, WebP, TIFF, GIF, AVIF, ...)',
  TOO_LARGE: 'the image is larger than the pixel limit',
  WRITE_FAILED: 'the file could not be written',
};

function wrapReadError(e: unknown, where: string): ImageError {
  if (e instanceof ImageError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const code = classify(msg);
  // libvips reports every decoder warning it collected, one per line and often repeated (a
  // truncated JPEG header gives the same two lines several times): keep the first, which names the cause.
  const first = msg.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? 'no details';
  return new ImageError(`cannot read image '${where}': ${WHAT[code]} (${first})`, where, code);
}

function pixelLimit(o: ReadImageOptions): number {
  const l = o.limitPixels ?? DEFAULT_PIXEL_LIMIT;
  if (l === false || l === 0) return 0;
  if (!Number.isInteger(l) || l < 0) throw new RangeError(`readImage: limitPixels must be a non-negative integer or false, got ${String(l)}`);
  return l;
}

/** Decode an image file or buffer: stored 8/16-bit samples, EXIF orientation applied. */
export async function readImage(src: string | Uint8Array, opts: ReadImageOptions = {}): Promise<Image> {
  const where = describeSource(src, opts.name);
  if (typeof src !== 'string' && !(src instanceof Uint8Array)) throw new TypeError(`readImage: expected a path or a Uint8Array, got ${typeof src}`);
  const limit = pixelLimit(opts);
  const input = typeof src === 'string' ? src : Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  const sharpOpts = { failOn: 'warning' as const, autoOrient: opts.autoOrient ?? true, ignoreIcc: !opts.applyIcc };
  try {
    const meta = await sharp(input, { ...sharpOpts, limitInputPixels: false }).metadata();
    const oriented = sharpOpts.autoOrient && meta.autoOrient ? meta.autoOrient : meta;
    const w = oriented.width ?? 0;
    const h = oriented.height ?? 0;
    if (limit && w * h > limit) {
      throw new ImageError(`cannot read image '${where}': ${w}×${h} = ${w * h} pixels exceeds the pixel limit ${limit} (raise limitPixels / --limit-pixels if the file is trusted)`, where, 'TOO_LARGE');
    }
    const depth = meta.depth ?? 'uchar';
    let sixteen: boolean;
    if (depth === 'uchar' || depth === 'char') sixteen = false;
    else if (depth === 'ushort' || depth === 'short') sixteen = true;
    else throw new ImageError(`cannot read image '${where}': ${depth} samples are not supported (8- and 16-bit integer images only)`, where, 'UNSUPPORTED');
    const grey = meta.space === 'b-w' || meta.space === 'grey16';
    // libvips drops the alpha of 8-bit grey when asked for 'b-w': decode those as RGBA
    // (grey replicated exactly) and keep channels 0 and 3.
    const greyAlpha8 = grey && !sixteen && !!meta.hasAlpha;
    const space = grey && !greyAlpha8 ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb';
    const { data, info } = await sharp(input, { ...sharpOpts, limitInputPixels: limit || false })
      .toColourspace(space)
      .raw({ depth: sixteen ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
    let channels = info.channels;
    let samples: Uint8Array | Uint16Array;
    if (sixteen) {
      // sharp's buffers start aligned, but copy rather than trust it.
      samples = data.byteOffset % 2 === 0 ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : new Uint16Array(new Uint8Array(data).buffer);
    } else {
      samples = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
    if (greyAlpha8 && channels === 4) {
      const n = info.width * info.height;
      const ga = new Uint8Array(2 * n);
      for (let i = 0; i < n; i++) {
        ga[2 * i] = samples[4 * i]!;
        ga[2 * i + 1] = samples[4 * i + 3]!;
      }
      samples = ga;
      channels = 2;
    }
    return { data: samples, width: info.width, height: info.height, channels, bitDepth: sixteen ? 16 : 8, format: meta.format ?? 'unknown', hasAlpha: channels === 2 || channels === 4 };
  } catch (e) {
    throw wrapReadError(e, where);
  }
}

/** Header-only facts about an image (size after EXIF orientation, channels, bit depth, format). */
export async function probeImage(src: string | Uint8Array, opts: Pick<ReadImageOptions, 'name' | 'autoOrient'> = {}): Promise<Omit<Image, 'data'>> {
  const where = describeSource(src, opts.name);
  const input = typeof src === 'string' ? src : Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  try {
    const m = await sharp(input, { limitInputPixels: false }).metadata();
    const o = (opts.autoOrient ?? true) && m.autoOrient ? m.autoOrient : m;
    const grey = m.space === 'b-w' || m.space === 'grey16';
    const channels = (grey ? (m.hasAlpha ? 2 : 1) : m.hasAlpha ? 4 : 3);
    return { width: o.width ?? 0, height: o.height ?? 0, channels, bitDepth: m.depth === 'ushort' || m.depth === 'short' ? 16 : 8, format: m.format ?? 'unknown', hasAlpha: !!m.hasAlpha };
  } catch (e) {
    throw wrapReadError(e, where);
  }
}

function checkImage(fn: string, img: Image): void {
  const { width, height, channels, bitDepth, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`${fn}: image size must be positive integers, got ${width}×${height}`);
  if (![1, 2, 3, 4].includes(channels)) throw new RangeError(`${fn}: channels must be 1, 2, 3 or 4, got ${channels}`);
  if (bitDepth !== 8 && bitDepth !== 16) throw new RangeError(`${fn}: bitDepth must be 8 or 16, got ${String(bitDepth)}`);
  if (bitDepth === 8 ? !(data instanceof Uint8Array) : !(data instanceof Uint16Array)) throw new TypeError(`${fn}: a ${bitDepth}-bit image needs ${bitDepth === 8 ? 'Uint8Array' : 'Uint16Array'} data`);
  if (data.length !== width * height * channels) throw new RangeError(`${fn}: data has ${data.length} samples, expected ${width}×${height}×${channels} = ${width * height * channels}`);
}

/** Options of {@link imageToFloat32}. */
export interface ToFloatOptions {
  /** Force 3 channels: grey is replicated, alpha dropped (like OpenCV's IMREAD_COLOR). */
  rgb?: boolean;
  /** Keep the stored integer scale (0..255 or 0..65535) instead of dividing into [0, 1]. */
  raw?: boolean;
}

/** Planar (CHW) float32 samples in [0, 1] (or the stored scale with raw), without the addon. */
export function imageToFloat32(img: Image, opts: ToFloatOptions = {}): { data: Float32Array; channels: number; height: number; width: number } {
  checkImage('imageToFloat32', img);
  const out = planar(img, opts, Float32Array);
  return { data: out.data, channels: out.channels, height: img.height, width: img.width };
}

function planar<A extends Float32Array | Float64Array>(img: Image, opts: ToFloatOptions, C: new (n: number) => A): { data: A; channels: number } {
  const { width, height, channels: cin, data } = img;
  const hw = width * height;
  const outC = opts.rgb ? 3 : cin;
  // Source channel of each output channel: grey replicated for rgb, alpha dropped.
  const src = opts.rgb ? (cin <= 2 ? [0, 0, 0] : [0, 1, 2]) : [0, 1, 2, 3].slice(0, cin);
  const scale = opts.raw ? 1 : 1 / (img.bitDepth === 16 ? 65535 : 255);
  const out = new C(outC * hw);
  for (let c = 0; c < outC; c++) {
    const s = src[c]!;
    const base = c * hw;
    for (let i = 0, j = s; i < hw; i++, j += cin) out[base + i] = data[j]! * scale;
  }
  return { data: out, channels: outC };
}

/** Options of {@link imageToTensor}. */
export interface ImageToTensorOptions extends ToFloatOptions {
  dtype?: DType;
  device?: Device;
}

/** An NCHW tensor [1, C, H, W] with values in [0, 1] (or the stored scale with raw). */
export function imageToTensor(img: Image, opts: ImageToTensorOptions = {}): Tensor {
  checkImage('imageToTensor', img);
  const dtype = opts.dtype ?? 'float32';
  const p = dtype === 'float64' ? planar(img, opts, Float64Array) : planar(img, opts, Float32Array);
  return tensor(p.data, [1, p.channels, img.height, img.width], { dtype, device: opts.device ?? 'cpu' });
}

/** Decode a file straight to an NCHW tensor (see readImage and imageToTensor). */
export async function readImageTensor(src: string | Uint8Array, opts: ReadImageOptions & ImageToTensorOptions = {}): Promise<Tensor> {
  return imageToTensor(await readImage(src, opts), opts);
}

/** Options of {@link float32ToImage}. */
export interface FromFloatOptions {
  bitDepth?: 8 | 16;
  /** The values are on the integer scale (0..255 / 0..65535) rather than in [0, 1]. */
  raw?: boolean;
}

/**
 * Planar float samples (C, H, W) to an Image: clamped, scaled and rounded half away from zero,
 * as MATLAB's im2uint8 does (BasicSR's numpy round differs only on exact ties).
 */
export function float32ToImage(data: ArrayLike<number>, channels: number, height: number, width: number, opts: FromFloatOptions = {}): Image {
  const bitDepth = opts.bitDepth ?? 8;
  if (bitDepth !== 8 && bitDepth !== 16) throw new RangeError(`tensorToImage: bitDepth must be 8 or 16, got ${String(bitDepth)}`);
  if (![1, 2, 3, 4].includes(channels)) throw new RangeError(`tensorToImage: an image needs 1 to 4 channels, got ${channels}`);
  const hw = height * width;
  if (data.length !== channels * hw) throw new RangeError(`tensorToImage: ${data.length} values do not make ${channels}×${height}×${width}`);
  const max = bitDepth === 16 ? 65535 : 255;
  const mul = opts.raw ? 1 : max;
  const out = bitDepth === 16 ? new Uint16Array(channels * hw) : new Uint8Array(channels * hw);
  for (let c = 0; c < channels; c++) {
    const base = c * hw;
    for (let i = 0, j = c; i < hw; i++, j += channels) {
      const v = data[base + i]! * mul;
      // NaN maps to 0: a broken pixel should not poison the whole file.
      out[j] = v > 0 ? (v < max ? Math.floor(v + 0.5) : max) : 0;
    }
  }
  return { data: out, width, height, channels: channels as ChannelCount, bitDepth, format: 'raw', hasAlpha: channels === 2 || channels === 4 };
}

/** A tensor [1, C, H, W] or [C, H, W] (C = 1..4, values in [0, 1]) to an 8- or 16-bit Image. */
export function tensorToImage(t: Tensor, opts: FromFloatOptions = {}): Image {
  const s = t.shape;
  if (!(s.length === 3 || (s.length === 4 && s[0] === 1))) throw new RangeError(`tensorToImage: expected a tensor [1, C, H, W] or [C, H, W], got [${s.join(', ')}]`);
  const [c, h, w] = s.slice(-3) as [number, number, number];
  const cpu = t.to('cpu');
  try {
    return float32ToImage(cpu.dtype === 'float64' ? cpu.toFloat64Array() : cpu.toFloat32Array(), c, h, w, opts);
  } finally {
    if (cpu !== t) cpu.dispose();
  }
}

/** Options of {@link writeImage} and {@link encodeImage}. */
export interface WriteImageOptions extends FromFloatOptions {
  /** Default: from the file extension (.png, .jpg/.jpeg, .webp, .tif/.tiff). */
  format?: ImageFormat;
  /** JPEG / WebP quality 1..100 (default 95). */
  quality?: number;
  /** WebP: lossless coding (default false). */
  lossless?: boolean;
}

const EXT_FORMAT: Record<string, ImageFormat> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.webp': 'webp', '.tif': 'tiff', '.tiff': 'tiff' };

/** The format a path's extension names, or null. */
export function formatFromPath(path: string): ImageFormat | null {
  return EXT_FORMAT[extname(path).toLowerCase()] ?? null;
}

function toBitDepth(img: Image, bitDepth: 8 | 16): Image {
  if (img.bitDepth === bitDepth) return img;
  const n = img.data.length;
  const out = bitDepth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  // 8 -> 16 is exact (×257); 16 -> 8 rounds to the nearest.
  if (bitDepth === 16) for (let i = 0; i < n; i++) out[i] = img.data[i]! * 257;
  else for (let i = 0; i < n; i++) out[i] = Math.floor(img.data[i]! / 257 + 0.5);
  return { ...img, data: out, bitDepth };
}

/** Encode an Image (or a tensor, see tensorToImage) in the given format. */
export async function encodeImage(src: Image | Tensor, opts: WriteImageOptions & { format: ImageFormat }): Promise<Buffer> {
  return encoderFor('encodeImage', src, opts).toBuffer();
}

/**
 * A sharp pipeline that encodes `src` as opts.format (validated here; `op` names the caller in errors).
 */
function encoderFor(op: string, src: Image | Tensor, opts: WriteImageOptions & { format: ImageFormat }): Sharp {
  const fmt = opts.format;
  if (!['png', 'jpeg', 'webp', 'tiff'].includes(fmt)) throw new TypeError(`${op}: format must be png, jpeg, webp or tiff, got ${String(fmt)}`);
  const deep = fmt === 'png' || fmt === 'tiff';
  if (opts.bitDepth === 16 && !deep) throw new RangeError(`${op}: ${fmt} cannot store 16-bit samples; use png or tiff`);
  let img = isImage(src) ? src : tensorToImage(src, { bitDepth: opts.bitDepth ?? 8, raw: opts.raw });
  checkImage(op, img);
  const bitDepth = opts.bitDepth ?? (deep ? img.bitDepth : 8);
  img = toBitDepth(img, bitDepth);
  if (fmt === 'jpeg' && img.hasAlpha) throw new TypeError(`${op}: JPEG cannot store an alpha channel; write png, webp or tiff, or drop the alpha`);
  const quality = opts.quality ?? 95;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new RangeError(`${op}: quality must be an integer in [1, 100], got ${quality}`);
  const grey = img.channels <= 2;
  const sixteen = img.bitDepth === 16;
  let s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } }).toColourspace(grey ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb');
  if (fmt === 'png') s = s.png({ compressionLevel: 6 });
  else if (fmt === 'jpeg') s = s.jpeg({ quality, chromaSubsampling: quality >= 90 ? '4:4:4' : '4:2:0' });
  else if (fmt === 'webp') s = s.webp({ quality, lossless: !!opts.lossless });
  else s = s.tiff({ compression: 'lzw' }); // sharp's default is lossy JPEG-in-TIFF
  return s;
}

/**
 * Encode `src` straight into a file, atomically (temporary file in the same folder, synced, then
 * renamed): the encoded bytes never sit in memory, which matters for large outputs (an 8192² PNG
 * is ~100 MB). `beforeRename` may throw to abandon the file (an abort during encoding).
 */
export async function encodeImageToFile(path: string, src: Image | Tensor, opts: WriteImageOptions & { format: ImageFormat }, beforeRename?: () => void): Promise<void> {
  const encoder = encoderFor('writeImage', src, opts);
  try {
    await writeFileAtomicWith(path, (tmp) => encoder.toFile(tmp), beforeRename);
  } catch (e) {
    if (e instanceof Error && e.name === 'AbortError') throw e;
    throw new ImageError(`cannot write image '${path}': ${(e as Error).message}`, path, 'WRITE_FAILED');
  }
}

function isImage(x: Image | Tensor): x is Image {
  return (x as Image).data !== undefined && (x as Image).bitDepth !== undefined;
}

/** Write an Image or a tensor ([1, C, H, W] / [C, H, W] in [0, 1]) to `path`, atomically. */
export async function writeImage(path: string, src: Image | Tensor, opts: WriteImageOptions = {}): Promise<void> {
  const format = opts.format ?? formatFromPath(path);
  if (!format) throw new TypeError(`writeImage: cannot tell the format of '${path}' from its extension; use .png, .jpg, .webp or .tif, or pass {format}`);
  await encodeImageToFile(path, src, { ...opts, format });
}

/** Extensions listImageFiles picks up (what sharp decodes in every build). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.avif'];

/** The image files directly in `dir`, sorted by name. */
export function listImageFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new TypeError(`cannot list images in '${dir}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return names
    .filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()) && !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile());
}
