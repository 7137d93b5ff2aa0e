// Running exported ONNX models in the peers the export is checked against: onnxruntime-node (CPU)
// and onnxruntime-web's WASM backend in Node; and the comparisons the tests use.
import ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { noGrad, tensor, tidy } from '../../lib/index.js';
import type { MPFNet } from '../../lib/models/mpfnet/mpfnet.js';
import { uniform01 } from '../../lib/random.js';

/** Seeded uniform [0, 1) input of `shape` (float32). */
export function seededInput(seed: number, shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => uniform01(seed, i));
}

/** Our forward (clamped like an image unless `clamp` is false). */
export function ours(model: MPFNet, x: Float32Array, shape: number[], clamp = true): Float32Array {
  return noGrad(() => tidy(() => (clamp ? model.forwardImage(tensor(x, shape)) : model.forward(tensor(x, shape))).toFloat32Array()));
}

/** The output of an ONNX file in onnxruntime-node, with its dims. */
export async function runOrtNode(file: string | Uint8Array, x: Float32Array, shape: number[]): Promise<{ data: Float32Array; dims: number[] }> {
  const s = await ortNode.InferenceSession.create(file as string, { intraOpNumThreads: 2, interOpNumThreads: 1 });
  try {
    const out = await s.run({ input: new ortNode.Tensor('float32', x, shape) });
    const y = out.output!;
    return { data: y.data as Float32Array, dims: [...y.dims] };
  } finally {
    await s.release();
  }
}

/** The output of an ONNX model (bytes) in onnxruntime-web's WASM backend, in this Node process. */
export async function runOrtWeb(bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<{ data: Float32Array; dims: number[] }> {
  ortWeb.env.wasm.numThreads = 1;
  const s = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const out = await s.run({ input: new ortWeb.Tensor('float32', x, shape) });
    const y = out.output!;
    return { data: y.data as Float32Array, dims: [...y.dims] };
  } finally {
    await s.release();
  }
}

/** max |a - b| / max |b|: the "relative" error of every output element against the reference b. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`maxRelativeError: lengths differ (${a.length} vs ${b.length})`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= diff)) diff = d; // NaN propagates as a failure
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

/** PSNR (dB) of a against b, both in [0, 1]. */
export function psnrFloat(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10(a.length / se);
}
