// The multi-perception feature extractor (docs/model.md §1): parallel convolutions of the head's output,
// one per (kernel, dilation) branch, padded so every branch keeps the input's size.
import { Conv2d } from '../../nn/conv2d.js';
import { ModuleList } from '../../nn/containers.js';
import type { InitOptions } from '../../nn/init.js';
import type { Tensor } from '../../tensor.js';

/** The multi-perception feature extractor: parallel convolutions of the head's output. */
export class MPFE extends ModuleList<Conv2d> {
  constructor(channels: number, branches: readonly (readonly [number, number])[], o: InitOptions = {}) {
    super(branches.map(([k, dil]) => new Conv2d(channels, channels, k, { ...o, dilation: dil, padding: (dil * (k - 1)) / 2 })));
  }

  /** The branches' features L1..Ln of the head's output `h0`. */
  forward(h0: Tensor): Tensor[] {
    return [...this].map((conv) => conv.forward(h0));
  }
}
