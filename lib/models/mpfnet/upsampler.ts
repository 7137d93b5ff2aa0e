// The upsampler (docs/model.md §1): ×2 = [conv3x3(C→4C), pixel-shuffle 2]; ×4 = that twice; ×3 =
// [conv3x3(C→9C), pixel-shuffle 3]. Children are indexed like a torch Sequential, so the convs
// are "up.0" and "up.2" and the shuffles (no parameters) sit at 1 and 3.
import { releaseUnlessRecording as release, tidyUnlessRecording } from '../../autograd/scope.js';
import { Conv2d } from '../../nn/conv2d.js';
import type { InitOptions } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import { PixelShuffle } from '../../nn/pixel-shuffle.js';
import type { Tensor } from '../../tensor.js';

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
    let y = x;
    for (const [conv, shuffle] of this.stages) {
      const prev = y;
      y = tidyUnlessRecording(() => shuffle.forward(conv.forward(prev)));
      if (prev !== x) release(prev);
      o.afterStage?.();
    }
    return y;
  }
}
