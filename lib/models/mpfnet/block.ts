// MPF-Net's Block (docs/model.md §1, paper eqs. 4–5): se(c2(selu(c1(concat(inputs))))). The concatenation
// is never built: conv2d reads the input list in place. SELU is fused into c1 (conv2d's
// activation option): no extra pass over c1's output, and training keeps only the activated map.
// c2 also returns its output's channel means (summed while each block of output is in cache),
// which the squeeze-excitation would otherwise pool in a pass of its own. With the tape off, the
// squeeze-excitation scales c2's output in place and the block's internal maps are freed as soon as
// it returns (only its output survives). For one image, forwardDeferred does not scale at all: it
// returns c2's output with its scales, and takes its inputs that way too (folded into c1's weights).
import { isGradEnabled, tidy, tidyUnlessRecording } from '../../autograd/scope.js';
import { Conv2d } from '../../nn/conv2d.js';
import type { InitOptions } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import { SqueezeExcite } from '../../nn/squeeze-excite.js';
import type { Tensor } from '../../tensor.js';

/**
 * A map and the per-channel scales (1, C) still to be applied to it, or null when it has none: what
 * {@link Block.forwardDeferred} passes on instead of the scaled map t · s.
 */
export interface Deferred {
  t: Tensor;
  s: Tensor | null;
}

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

  /**
   * {@link Block.forward} for one image with the tape off (CPU): the inputs arrive with their pending
   * scales, which c1 folds into its weights (Conv2d.forwardScaledInputs), and the output leaves the
   * same way, c2's map with the squeeze-excitation's scales: no pass over memory scales a map (the
   * consumer folds them in: the next c1, or the residual sum, scaleAddInPlace). The caller owns both.
   */
  forwardDeferred(xs: readonly Deferred[]): Deferred {
    if (xs.length * this.c2.inChannels !== this.c1.inChannels) throw new RangeError(`Block: expected ${this.c1.inChannels / this.c2.inChannels} inputs, got ${xs.length}`);
    return tidy(() => {
      const h = this.c1.forwardScaledInputs(xs.map((x) => x.t), xs.map((x) => x.s), 'selu');
      const { y, means } = this.c2.forwardWithMeans(h);
      return { t: y, s: this.se.scales(means) };
    });
  }
}
