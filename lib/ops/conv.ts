// conv2d as an autograd function (PyTorch's F.conv2d semantics, groups = 1). Kernels:
// native/cpu/conv2d*.cc: float32 through Winograd (F(2x2), F(4x4) or F(6x6), 3x3) for 3x3 stride-1
// convolutions and an implicit GEMM on the SIMD SGEMM driver otherwise, float64 through direct
// loops (the reference the gradient checks use). setConvAlgorithm forces one algorithm (tests,
// accuracy comparisons).
import { native } from '../../bindings/index.js';
import type { ConvActivationName, ConvAlgorithmName } from '../../bindings/native.js';
import { isGradEnabled } from '../autograd/scope.js';
import { record } from '../autograd/tape.js';
import { fromHandle, fromHandleOrNull, type Tensor } from '../tensor.js';
import { checkTensor } from './check.js';

/** A size given once for both axes, or as [height, width]. */
export type IntPair = number | readonly [number, number];

/** An activation {@link conv2d} can fuse into its output: 'none', or 'selu' (PyTorch's SELU). */
export type ConvActivation = ConvActivationName;

/** Options of {@link conv2d}: stride, padding, dilation, a fused activation. */
export interface ConvOptions {
  /** Step between output pixels (>= 1). Default 1. */
  stride?: IntPair;
  /** Zero padding on each side (>= 0). Default 0. */
  padding?: IntPair;
  /** Spacing between kernel taps (>= 1; 1 = a plain convolution). Default 1. */
  dilation?: IntPair;
  /**
   * Applied to every output value as the kernels write it (default 'none'): `selu` gives
   * selu(conv2d(x, w, b)) without the extra pass over memory, and backward works from the output
   * alone, so the pre-activation is never kept.
   */
  activation?: ConvActivation;
}

const ACTIVATIONS: readonly ConvActivation[] = ['none', 'selu'];

function pair(name: string, v: IntPair): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((e) => typeof e === 'number')) return [v[0], v[1]];
  throw new TypeError(`conv2d: '${name}' must be a number or an [h, w] pair of numbers, got ${JSON.stringify(v)}`);
}

/** The output's shape (N, out, OH, OW), for a call the native side has accepted. */
function outputShape(x: Tensor, weight: Tensor, stride: [number, number], padding: [number, number], dilation: [number, number]): number[] {
  const extent = (i: 0 | 1) => Math.floor((x.shape[2 + i]! + 2 * padding[i] - dilation[i] * (weight.shape[2 + i]! - 1) - 1) / stride[i]) + 1;
  return [x.shape[0]!, weight.shape[0]!, extent(0), extent(1)];
}

/**
 * 2-D convolution: x (N, C, H, W), weight (out, C, kh, kw), bias (out) or null -> (N, out, OH, OW).
 * x may be an array of tensors (N, C_i, H, W): the convolution then runs over their channel
 * concatenation, read in place (never materialised), and each part gets its own gradient.
 * `activation: 'selu'` returns selu of the convolution, fused (see {@link ConvOptions}).
 */
export function conv2d(x: Tensor | readonly Tensor[], weight: Tensor, bias: Tensor | null = null, o: ConvOptions = {}): Tensor {
  return convForward(x, weight, bias, o, false).y;
}

/**
 * {@link conv2d}, and also the mean of each output plane over its pixels, `means` (N, out): what a
 * squeeze-excitation after the convolution pools (pass it to squeezeExcite's `means`). On
 * the CPU the sums are taken while each block of output is still in cache, so the pooling pass
 * over the output disappears. `means` is a plain tensor with no gradient of its own
 * (squeezeExcite's backward differentiates through the mean itself); `y` is conv2d's output.
 */
export function conv2dWithMeans(x: Tensor | readonly Tensor[], weight: Tensor, bias: Tensor | null = null, o: ConvOptions = {}): { y: Tensor; means: Tensor } {
  const r = convForward(x, weight, bias, o, true);
  return { y: r.y, means: r.means! };
}

function convForward(x: Tensor | readonly Tensor[], weight: Tensor, bias: Tensor | null, o: ConvOptions, withMeans: boolean): { y: Tensor; means: Tensor | null } {
  const xs: Tensor[] = Array.isArray(x) ? [...(x as readonly Tensor[])] : [x as Tensor];
  if (xs.length === 0) throw new RangeError("conv2d: 'x' must be a tensor or a non-empty array of tensors");
  xs.forEach((t, i) => checkTensor('conv2d', xs.length > 1 ? `x[${i}]` : 'x', t));
  checkTensor('conv2d', 'weight', weight);
  const b = bias ?? null;
  if (b !== null) checkTensor('conv2d', 'bias', b);
  const stride = pair('stride', o.stride ?? 1);
  const padding = pair('padding', o.padding ?? 0);
  const dilation = pair('dilation', o.dilation ?? 1);
  const activation = o.activation ?? 'none';
  if (!ACTIVATIONS.includes(activation)) throw new RangeError(`conv2d: 'activation' must be 'none' or 'selu', got ${JSON.stringify(activation)}`);
  const handles = xs.map((t) => t.handle);
  const device = xs[0]!.device;
  const args = [device, handles, weight.handle, b?.handle ?? null, stride, padding, dilation, activation] as const;
  let y: Tensor;
  let means: Tensor | null = null;
  const x0 = xs[0]!;
  if (withMeans) {
    const r = native.conv2dForwardMeans(...args);
    const shape = outputShape(x0, weight, stride, padding, dilation);
    y = fromHandle(r.y, { shape, dtype: x0.dtype, device });
    means = fromHandle(r.m, { shape: shape.slice(0, 2), dtype: x0.dtype, device });
  } else {
    const h = native.conv2dForward(...args);
    y = fromHandle(h, { shape: outputShape(x0, weight, stride, padding, dilation), dtype: x0.dtype, device });
  }
  const fused = activation !== 'none';
  record(y, fused ? `conv2d+${activation}` : 'conv2d', [...xs, weight, b], (gy) => {
    // The activation's gradient from the output y (common/unary_math.h), then conv2d's backward.
    const g = fused ? native.unaryBackward(gy.device, activation, null, y.handle, gy.handle, 0, 0) : gy.handle;
    try {
      const r = native.conv2dBackward(gy.device, handles, weight.handle, g, stride, padding, dilation,
        xs.map((t) => t.requiresGrad), weight.requiresGrad, b?.requiresGrad ?? false);
      const gxs = r.gxs ?? xs.map(() => null);
      return [...gxs.map((h, i) => fromHandleOrNull(h, xs[i])), fromHandleOrNull(r.gw, weight), fromHandleOrNull(r.gb, b)];
    } finally {
      if (fused) native.dispose(g);
    }
  });
  return { y, means };
}

/**
 * The weight (out, in, kh, kw) of a convolution over the concatenation of input parts, with the
 * parts' per-channel scales folded in: conv2d(concat(x_j · s_j), w) = conv2d(concat(x_j), result),
 * zero padding included. `scales` has one entry per part, in order: a (1, C_j) tensor, or the part's
 * channel count C_j where it has no scale; the C_j add up to `in`. CPU tensors, tape off (no
 * gradient): MPF-Net's inference passes its squeeze-excitations on this way (Conv2d.forwardScaledInputs).
 */
export function conv2dFoldInputScales(weight: Tensor, scales: readonly (Tensor | number)[]): Tensor {
  checkTensor('conv2dFoldInputScales', 'weight', weight);
  const parts = scales.map((s, j) => {
    if (typeof s === 'number') return { channels: s };
    checkTensor('conv2dFoldInputScales', `scales[${j}]`, s);
    return s.handle;
  });
  if (isGradEnabled() && [weight, ...scales].some((t) => typeof t !== 'number' && t.requiresGrad))
    throw new TypeError('conv2dFoldInputScales: has no gradient; call it with the tape off (noGrad) or on tensors that do not require a gradient');
  return fromHandle(native.conv2dFoldInputScales(weight.device, weight.handle, parts));
}

/**
 * conv2d(pixelShuffle(conv2d(x, stageWeight, stageBias, {padding: 1}), r), tailWeight, tailBias,
 * {padding: 1}) for 3x3 kernels, computed as one 5x5 convolution of x whose weights compose the two
 * (then a pixel shuffle of its out·r² channels): the shuffled map in between is never made. Equal to
 * the chain up to rounding, border included. CPU tensors, tape off (no gradient), r >= 2. MPF-Net's
 * inference runs its last upsampler stage and tail this way (docs/performance.md).
 */
export function upsampleTail(x: Tensor, stageWeight: Tensor, stageBias: Tensor | null, r: number, tailWeight: Tensor, tailBias: Tensor | null): Tensor {
  const named: [string, Tensor | null][] = [['x', x], ['stageWeight', stageWeight], ['stageBias', stageBias], ['tailWeight', tailWeight], ['tailBias', tailBias]];
  for (const [name, t] of named) if (t !== null) checkTensor('upsampleTail', name, t);
  if (isGradEnabled() && named.some(([, t]) => t?.requiresGrad))
    throw new TypeError('upsampleTail: has no gradient; call it with the tape off (noGrad) or on tensors that do not require a gradient');
  return fromHandle(native.upsampleTail(x.device, x.handle, stageWeight.handle, stageBias?.handle ?? null, r, tailWeight.handle, tailBias?.handle ?? null));
}

/**
 * How conv2d picks its algorithm on the CPU (native/cpu/conv2d.cc, conv2d_algo):
 * - 'auto' (default): Winograd for 3x3 stride-1 convolutions with enough channels (F(2x2, 3x3) for
 *   the forward and weight passes, F(4x4, 3x3) for the input gradient; the inference precision may
 *   take larger tiles, see lib/infer/precision.ts), the implicit GEMM otherwise (float32); direct
 *   loops (float64, the reference);
 * - 'gemm': the implicit GEMM everywhere (float32);
 * - 'winograd' / 'winograd2': F(4x4, 3x3) / F(2x2, 3x3) wherever they apply, float64 included;
 * - 'winograd6': F(6x6, 3x3) likewise (5.1x fewer multiplications than direct, rounding ~10x F(4x4)'s:
 *   relative errors up to ~1e-4 in float32; docs/performance.md has when it pays);
 * - 'winograd8': F(8x8, 3x3) likewise (5.8x fewer, rounding ~10x F(6x6)'s: relative errors up to ~1e-3
 *   in float32; what the 'fp32' inference precision takes with AVX-512 or AVX2 for planes 128 columns wide
 *   and more);
 * - 'lattice': every dilated 3x3 forward with stride 1 and padding = dilation as undilated convolutions
 *   on its sub-lattices (which the inference precisions also choose where each lattice is 16 pixels or
 *   more); the lattices' convolutions then take the implicit GEMM (direct loops in float64);
 * - 'direct': plain loops everywhere.
 * The environment variable MPFNET_CONV_ALGO sets it at start. Returns the previous mode.
 */
export type ConvAlgorithm = ConvAlgorithmName;
/**
 * Force a convolution algorithm wherever it applies ('auto' restores the automatic choice); returns the
 * previous one.
 */
export function setConvAlgorithm(mode: ConvAlgorithm): ConvAlgorithm {
  return native.conv2dAlgo(mode);
}

/** The current conv2d algorithm mode (see setConvAlgorithm). */
export function getConvAlgorithm(): ConvAlgorithm {
  return native.conv2dAlgo();
}
