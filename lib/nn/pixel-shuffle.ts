// nn.PixelShuffle: (N, C·r², H, W) -> (N, C, H·r, W·r). No parameters; it exists as a module so
// that sequences keep PyTorch's indices (MPF-Net's "up.0" conv, "up.1" shuffle, "up.2" conv).
import { pixelShuffle } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** The pixel-shuffle layer: (N, C·r², H, W) → (N, C, H·r, W·r). */
export class PixelShuffle extends Module {
  constructor(readonly upscaleFactor: number) {
    super();
    if (!Number.isSafeInteger(upscaleFactor) || upscaleFactor < 1) throw new RangeError(`PixelShuffle: upscaleFactor must be a positive integer, got ${upscaleFactor}`);
  }
  /** Shuffle `x`. */
  forward(x: Tensor): Tensor {
    return pixelShuffle(x, this.upscaleFactor);
  }
}
