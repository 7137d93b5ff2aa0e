// MPF-Net's Block (docs/model.md §1, paper eqs. 4–5): se(c2(selu(c1(concat(inputs))))). The concatenation
// is never built: conv2d reads the input list in place. SELU is fused into c1 (conv2d's
// activation option): no extra pass over c1's output, and training keeps only the activated map.
// c2 also returns its output's channel means (summed while each block of output is in cache),
// which the squeeze-excitation would otherwise pool in a pass of its own. With the tape off, the
// squeeze-excitation scales c2's output in place and the block's internal maps are freed as soon as
// it returns (only its output survives).
import { isGradEnabled, tidyUnlessRecording } from '../../autograd/scope.js';
import { Conv2d } from '../../nn/conv2d.js';
import type { InitOptions } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import { SqueezeExcite } from '../../nn/squeeze-excite.js';
import type { Tensor } from '../../tensor.js';

/** MPF-Net's Block: se(c2(selu(c1(concat(inputs))))) (docs/model.md §1). */
export class Block extends Module {
  readonly c1: Conv2d;
  readonly c2: Conv2d;
  readonly se: SqueezeExcite;

  /** `inputs`: how many C-channel maps the block concatenates (2 in a CPB, 1 without cross fusion). */
  constructor(channels: number, inputs: number, seReduction: number, o: InitOptions = {}) {
    super();
    this.c1 = this.registerModule('c1', new Conv2d(inputs * channels, channels, 3, { ...o, padding: 1 }));
    this.c2 = this.registerModule('c2', new Conv2d(channels, channels, 3, { ...o, padding: 1 }));
    this.se = this.registerModule('se', new SqueezeExcite(channels, { ...o, reduction: seReduction }));
  }

  /** Apply the block to its inputs, convolved as their channel concatenation. */
  forward(xs: Tensor[]): Tensor {
    if (xs.length * this.c2.inChannels !== this.c1.inChannels) throw new RangeError(`Block: expected ${this.c1.inChannels / this.c2.inChannels} inputs, got ${xs.length}`);
    return tidyUnlessRecording(() => {
      const { y, means } = this.c2.forwardWithMeans(this.c1.forward(xs.length === 1 ? xs[0]! : xs, 'selu'));
      // With the tape off, y is this block's own and nothing else reads it: scale it in place.
      if (!isGradEnabled() && y.device === 'cpu') return this.se.forwardInPlace(y, means);
      return this.se.forward(y, means);
    });
  }
}
