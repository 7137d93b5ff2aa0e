// Inference precision: how much the forward pass of 3×3 stride-1 convolutions may round for
// speed, on the calling thread (native/cpu/inference_precision.h). 'strict' everywhere by default,
// so training and its golden tests are untouched; upscale() defaults to 'fp32' on its worker.
import { native } from '../../bindings/index.js';

/**
 * How much a forward convolution may round (docs/upscaling.md#precision):
 * - 'strict': what training uses: Winograd F(4×4, 3×3) where a convolution keeps or narrows its
 *   channels, F(2×2, 3×3) elsewhere;
 * - 'fp32': Winograd F(8×8, 3×3) on planes 128 columns wide and more (AVX-512, AVX2), else F(6×6, 3×3) for
 *   convolutions whose input is 16 MB or more, else F(4×4, 3×3); ~1.4× faster than 'strict', output
 *   PSNR vs float64 ≥ 60 dB on trained weights;
 * - 'bf16': Winograd with bf16 products summed in float32 (AVX512_BF16), output PSNR vs 'fp32'
 *   ≥ 50 dB on trained weights; runs as 'fp32' (with a one-time warning) where the CPU lacks it.
 * 'fp32' and 'bf16' also run dilated 3×3 convolutions on their sub-lattices, with those tiles.
 * Gradients never change.
 */
export type InferencePrecision = 'strict' | 'fp32' | 'bf16';

const NAMES: readonly string[] = ['strict', 'fp32', 'bf16'];

/** Throws a RangeError naming the value unless `p` is an {@link InferencePrecision}. */
export function checkInferencePrecision(p: unknown, what = 'precision'): InferencePrecision {
  if (typeof p !== 'string' || !NAMES.includes(p)) throw new RangeError(`${what} must be 'strict', 'fp32' or 'bf16', got ${typeof p === 'string' ? `'${p}'` : String(p)}`);
  return p as InferencePrecision;
}

/** Whether 'bf16' runs bf16 kernels on this machine (AVX512_BF16, and MPFNET_SIMD not below avx512). */
export function bf16Supported(): boolean {
  return native.bf16Available();
}

let warned = false;

/**
 * The precision that will actually run for `p`: 'bf16' becomes 'fp32' where {@link bf16Supported}
 * is false, with one warning per thread (process.emitWarning, code MPFNET_BF16_FALLBACK).
 */
export function effectiveInferencePrecision(p: InferencePrecision): InferencePrecision {
  checkInferencePrecision(p);
  if (p !== 'bf16' || bf16Supported()) return p;
  if (!warned) {
    warned = true;
    process.emitWarning('this CPU has no AVX512_BF16 (or MPFNET_SIMD is below avx512): precision bf16 runs as fp32', { code: 'MPFNET_BF16_FALLBACK' });
  }
  return 'fp32';
}

/**
 * Set the inference precision of forward convolutions run from this thread (the main thread or a
 * worker_thread each have their own; every thread starts at 'strict'). Returns the previous one.
 * 'bf16' without CPU support runs as 'fp32' and warns once.
 */
export function setInferencePrecision(p: InferencePrecision): InferencePrecision {
  return native.inferencePrecision(effectiveInferencePrecision(p));
}

/** This thread's inference precision (see {@link setInferencePrecision}). */
export function getInferencePrecision(): InferencePrecision {
  return native.inferencePrecision();
}

/**
 * Run `fn` with this thread's inference precision set to `p`, restoring the previous one when
 * `fn` returns or throws. `fn` must be synchronous: the work after an `await` inside it runs
 * under whatever precision is set by then (a TypeError if it returns a Promise).
 */
export function withInferencePrecision<T>(p: InferencePrecision, fn: () => T): T {
  const before = setInferencePrecision(p);
  try {
    const r = fn();
    if (r instanceof Promise) throw new TypeError('withInferencePrecision: fn must be synchronous (it returned a Promise)');
    return r;
  } finally {
    native.inferencePrecision(before);
  }
}
