// MATLAB-compatible imresize (bicubic a = -0.5 by default, antialiasing when shrinking, symmetric
// padding): the resize used to make LR images and inside NIQE, so numbers compare with papers.
// Kernels: native/cpu/resize.cc. Two one-axis passes in MATLAB's order (the axis with the smaller
// scale first; height first on ties); each pass is linear and its backward is the transposed map.
import { native } from '../../bindings/index.js';
import type { ResizeKernelName } from '../../bindings/native.js';
import { record } from '../autograd/tape.js';
import { fromHandle, type Tensor } from '../tensor.js';

/** MATLAB's kernel names; 'nearest' is the width-1 box without antialiasing. */
export type ResizeKernel = ResizeKernelName | 'nearest';
const KERNELS: readonly ResizeKernel[] = ['cubic', 'linear', 'box', 'lanczos2', 'lanczos3', 'nearest'];

/** Options of resizing along one axis. */
export interface ResizeAxisOptions {
  /** The scale factor (default outLen / input length, as MATLAB uses when given a size). */
  scale?: number;
  kernel?: ResizeKernel;
  /** Widen the kernel by 1/scale when shrinking (default true, false for 'nearest'). */
  antialias?: boolean;
}

function kernelArgs(fn: string, o: { kernel?: ResizeKernel; antialias?: boolean }): [ResizeKernelName, boolean] {
  const k = o.kernel ?? 'cubic';
  if (!KERNELS.includes(k)) throw new TypeError(`${fn}: kernel must be one of ${KERNELS.join(', ')}, got '${String(k)}'`);
  if (o.antialias !== undefined && typeof o.antialias !== 'boolean') throw new TypeError(`${fn}: antialias must be a boolean, got ${String(o.antialias)}`);
  return k === 'nearest' ? ['box', o.antialias ?? false] : [k, o.antialias ?? true];
}

function checkScale(fn: string, s: number): number {
  if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) throw new RangeError(`${fn}: scale must be a positive finite number, got ${String(s)}`);
  return s;
}

function pass(x: Tensor, axis: number, outLen: number, scale: number, kernel: ResizeKernelName, antialias: boolean): Tensor {
  const inLen = x.shape[axis]!;
  const y = fromHandle(native.resizeForward(x.device, x.handle, axis, outLen, scale, kernel, antialias));
  return record(y, 'resize', [x], (gy) => [fromHandle(native.resizeBackward(gy.device, gy.handle, axis, inLen, scale, kernel, antialias))]);
}

/** Resize one axis of x to outLen samples (an autograd op). */
export function resizeAxis(x: Tensor, axis: number, outLen: number, opts: ResizeAxisOptions = {}): Tensor {
  const [kernel, antialias] = kernelArgs('resizeAxis', opts);
  if (!Number.isInteger(axis) || axis < -x.rank || axis >= x.rank) throw new RangeError(`resizeAxis: axis ${axis} is out of range for shape [${x.shape.join(', ')}]`);
  const ax = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(outLen) || outLen < 1) throw new RangeError(`resizeAxis: outLen must be a positive integer, got ${outLen}`);
  const scale = opts.scale === undefined ? outLen / x.shape[ax]! : checkScale('resizeAxis', opts.scale);
  return pass(x, ax, outLen, scale, kernel, antialias);
}

/** Options of {@link imresize}: scale or size, kernel, antialiasing. */
export interface ImresizeOptions {
  /** One factor for both axes or [height, width]; the output is ceil(input × scale). */
  scale?: number | readonly [number, number];
  /** The output [height, width]; the scales are then output / input, as in MATLAB. */
  size?: readonly [number, number];
  /** Default 'cubic' (MATLAB's default, a = -0.5). */
  kernel?: ResizeKernel;
  /** Widen the kernel by 1/scale when shrinking (default true, false for 'nearest'). */
  antialias?: boolean;
}

/** The output size and per-axis scales imresize uses for an input of height h and width w. */
export function imresizePlan(h: number, w: number, opts: ImresizeOptions): { size: [number, number]; scale: [number, number] } {
  const hasScale = opts.scale !== undefined;
  const hasSize = opts.size !== undefined;
  if (hasScale === hasSize) throw new TypeError('imresize: give exactly one of {scale} and {size}');
  if (hasSize) {
    const s = opts.size!;
    if (!Array.isArray(s) || s.length !== 2 || !s.every((v) => Number.isInteger(v) && v >= 1)) throw new RangeError(`imresize: size must be [height, width] positive integers, got ${JSON.stringify(s)}`);
    return { size: [s[0], s[1]], scale: [s[0] / h, s[1] / w] };
  }
  const sc = opts.scale!;
  const [sh, sw] = typeof sc === 'number' ? [sc, sc] : Array.isArray(sc) && sc.length === 2 ? [sc[0], sc[1]] : [NaN, NaN];
  checkScale('imresize', sh);
  checkScale('imresize', sw);
  return { size: [Math.ceil(h * sh), Math.ceil(w * sw)], scale: [sh, sw] };
}

/**
 * MATLAB's imresize of the last two axes (H, W) of x (NCHW, or any rank >= 2), with autograd.
 * imresize(x, {scale: 4}), imresize(x, {scale: 0.25}) (antialiased), imresize(x, {size: [h, w]}).
 */
export function imresize(x: Tensor, opts: ImresizeOptions): Tensor {
  if (x.rank < 2) throw new RangeError(`imresize: expected a tensor with at least 2 dimensions (…, H, W), got [${x.shape.join(', ')}]`);
  const [kernel, antialias] = kernelArgs('imresize', opts);
  const ah = x.rank - 2;
  const aw = x.rank - 1;
  const { size, scale } = imresizePlan(x.shape[ah]!, x.shape[aw]!, opts);
  const identityH = scale[0] === 1 && size[0] === x.shape[ah];
  const identityW = scale[1] === 1 && size[1] === x.shape[aw];
  // MATLAB resizes the axis with the smaller scale first (less work when shrinking).
  const order = scale[1] < scale[0] ? [aw, ah] : [ah, aw];
  let y = x;
  for (const axis of order) {
    const i = axis === ah ? 0 : 1;
    // An identity pass (scale 1, same length) is exact, so skip it, unless both are: then one
    // pass still gives the caller a fresh tensor.
    if ((i === 0 ? identityH : identityW) && !(identityH && identityW && i === 0)) continue;
    const next = pass(y, axis, size[i], scale[i], kernel, antialias);
    if (y !== x && !y.requiresGrad) y.dispose();
    y = next;
  }
  return y;
}
