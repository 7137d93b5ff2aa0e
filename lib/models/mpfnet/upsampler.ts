// The upsampler (docs/model.md §1): ×2 = [conv3x3(C→4C), pixel-shuffle 2]; ×4 = that twice; ×3 =
// [conv3x3(C→9C), pixel-shuffle 3]. Children are indexed like a torch Sequential, so the convs
// are "up.0" and "up.2" and the shuffles (no parameters) sit at 1 and 3.
import { isGradEnabled, releaseUnlessRecording as release, tidyUnlessRecording } from '../../autograd/scope.js';
import { Conv2d } from '../../nn/conv2d.js';
import type { InitOptions } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import { PixelShuffle } from '../../nn/pixel-shuffle.js';
import { conv2d, upsampleTail } from '../../ops/conv.js';
import { empty } from '../../ops/creation.js';
import { pixelShuffleInto, split } from '../../ops/shape.js';
import type { Tensor } from '../../tensor.js';

/**
 * With the tape off, a stage whose pre-shuffle map would exceed this many bytes is computed in
 * chunks of output channels, each shuffled into place and freed, so the pre-shuffle map never
 * exists whole, for one more input transform per extra chunk. On the CPU the last stage never gets
 * here (forwardWithTail composes it with the tail); the earlier stage of a large whole image and
 * every stage on CUDA do. 64 MB rather than 48: a whole 256² image's last stage (208 MB) ran in 4
 * chunks of 52 channels instead of 13 of 16, whose repeated input transforms had made that
 * convolution ~1.4× slower (~100 → ~70 ms, 2 threads).
 */
export const STAGE_CHUNK_BYTES = 64 * 2 ** 20;

/** The upsampler: convolutions and pixel shuffles (docs/model.md §1). */
export class Upsampler extends Module {
  readonly scale: 2 | 3 | 4;
  readonly stages: [Conv2d, PixelShuffle][] = [];

  constructor(channels: number, scale: 2 | 3 | 4, o: InitOptions = {}) {
    super();
    this.scale = scale;
    const steps = scale === 4 ? [2, 2] : [scale];
    steps.forEach((r, i) => {
      const conv = this.registerModule(String(2 * i), new Conv2d(channels, r * r * channels, 3, { ...o, padding: 1 }));
      const shuffle = this.registerModule(String(2 * i + 1), new PixelShuffle(r));
      this.stages.push([conv, shuffle]);
    });
  }

  /** With the tape off, each stage's input (except x) and the pre-shuffle map are freed at once. */
  forward(x: Tensor, o: { afterStage?: () => void } = {}): Tensor {
    return runStages(this.stages, x, o);
  }

  /** tail(forward(x)) as the plain chain: every stage's map is made; the upsampler's map is freed after the tail. */
  forwardChain(x: Tensor, tail: Conv2d, o: { afterStage?: () => void } = {}): Tensor {
    const up = this.forward(x, o);
    try {
      return tail.forward(up);
    } finally {
      release(up);
    }
  }

  /**
   * tail(forward(x)) (MPFNet.forward). With the tape off on the CPU the stages before the last run
   * as in forward, then the last stage, its pixel shuffle and `tail` as one composed 5x5
   * convolution, upsampleTail: neither the last stage's map (208 channels at 512² for a 256² input
   * at x4) nor the shuffled map is ever made. With the tape on, on CUDA, or where the last stage or
   * the tail is not a 3x3 convolution with stride 1 and padding 1, forwardChain runs.
   */
  forwardWithTail(x: Tensor, tail: Conv2d, o: { afterStage?: () => void } = {}): Tensor {
    const [conv, shuffle] = this.stages[this.stages.length - 1]!;
    if (isGradEnabled() || x.device !== 'cpu' || ![conv, tail].every(isSame3x3)) return this.forwardChain(x, tail, o);
    const y = runStages(this.stages.slice(0, -1), x, o);
    let out: Tensor;
    try {
      out = upsampleTail(y, conv.weight, conv.bias, shuffle.upscaleFactor, tail.weight, tail.bias);
    } finally {
      if (y !== x) release(y);
    }
    o.afterStage?.();
    return out;
  }
}

/** A 3x3 convolution with stride 1, padding 1 and dilation 1: the size-preserving kind upsampleTail composes. */
function isSame3x3(c: Conv2d): boolean {
  return [c.kernelSize, c.padding, c.stride, c.dilation].every(([a, b], i) => a === b && a === [3, 1, 1, 1][i]);
}

/** The stages one after another (Upsampler.forward). */
function runStages(stages: readonly [Conv2d, PixelShuffle][], x: Tensor, o: { afterStage?: () => void }): Tensor {
  let y = x;
  for (const [conv, shuffle] of stages) {
    const prev = y;
    const chunks = isGradEnabled() ? 1 : stageChunks(conv, shuffle.upscaleFactor, prev);
    y = chunks > 1 ? chunkedStage(conv, shuffle.upscaleFactor, prev, chunks) : tidyUnlessRecording(() => shuffle.forward(conv.forward(prev)));
    if (prev !== x) release(prev);
    o.afterStage?.();
  }
  return y;
}

/** How many output-channel chunks keep a stage's pre-shuffle map under STAGE_CHUNK_BYTES (a divisor of the output channels). */
function stageChunks(conv: Conv2d, r: number, x: Tensor): number {
  const [n = 1, , h = 0, w = 0] = x.shape;
  const bytes = n * conv.outChannels * h * w * (x.dtype === 'float64' ? 8 : 4);
  const channels = conv.outChannels / (r * r);
  for (let k = 1; k <= channels; k++) if (channels % k === 0 && bytes / k <= STAGE_CHUNK_BYTES) return k;
  return channels;
}

/** pixelShuffle(conv(x)) computed `chunks` output-channel groups at a time (tape off only). */
function chunkedStage(conv: Conv2d, r: number, x: Tensor, chunks: number): Tensor {
  const [n = 1, , h = 0, w = 0] = x.shape;
  const per = conv.outChannels / chunks;
  // Every element is written: the chunks' channels tile the output's (empty: no zero-fill pass).
  const out = empty([n, conv.outChannels / (r * r), h * r, w * r], { dtype: x.dtype, device: x.device });
  const weights = split(conv.weight, per, 0);
  const biases = conv.bias ? split(conv.bias, per, 0) : null;
  try {
    for (let i = 0; i < chunks; i++) {
      const part = conv2d(x, weights[i]!, biases?.[i] ?? null, { stride: conv.stride, padding: conv.padding, dilation: conv.dilation });
      try {
        pixelShuffleInto(part, r, out, (i * per) / (r * r));
      } finally {
        part.dispose();
      }
    }
  } finally {
    for (const t of [...weights, ...(biases ?? [])]) t.dispose();
  }
  return out;
}
