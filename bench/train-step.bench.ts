// End-to-end MPF-Net (lib/models/mpfnet): one full training step of the default ×4 model (zero
// grads, forward, L1, backward, Adam) at batch 1 and 4 on 48×48 LR patches, and inference on a
// 128×128 input. FLOPs come from summary(): forward = 2 × MACs, a training step ≈ 3 × forward.
// The PyTorch peer (bench/peers/pytorch_train-step.py) builds the same model.
import { Generator, noGrad, rand, tidy, type Tensor } from '../lib/index.js';
import { MPFNet, createModel } from '../lib/models/mpfnet/mpfnet.js';
import { summary } from '../lib/models/mpfnet/summary.js';
import { Adam } from '../lib/optim/adam.js';
import { l1Loss } from '../lib/ops/index.js';
import type { BenchCase } from './harness.js';

export const group = 'train-step';

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  let model: MPFNet;
  let opt: Adam;
  let x: Tensor;
  let y: Tensor;
  const scale = 4;
  for (const batch of [1, 4]) {
    const size = 48;
    out.push({
      group,
      name: `train step b${batch} ${size}x${size} x${scale}`,
      params: { mode: 'train', batch, size, scale },
      flops: 3 * 2 * summary(withModel(), [size, size], batch).macs,
      setup: () => {
        model = createModel({ scale }, { seed: 1 });
        opt = new Adam(model.parameters(), { lr: 1e-4 });
        x = rand([batch, 3, size, size], { generator: new Generator(2) });
        y = rand([batch, 3, scale * size, scale * size], { generator: new Generator(3) });
      },
      fn: () => {
        tidy(() => {
          opt.zeroGrad();
          l1Loss(model.forward(x), y).backward();
        });
        opt.step();
      },
      teardown: () => {
        opt.dispose();
        model.dispose();
        x.dispose();
        y.dispose();
      },
    });
  }
  const size = 128;
  out.push({
    group,
    name: `inference b1 ${size}x${size} x${scale}`,
    params: { mode: 'infer', batch: 1, size, scale, noGrad: true },
    flops: 2 * summary(withModel(), [size, size], 1).macs,
    setup: () => {
      model = createModel({ scale }, { seed: 1 }).eval();
      x = rand([1, 3, size, size], { generator: new Generator(2) });
    },
    fn: () => {
      noGrad(() => tidy(() => void model.forward(x)));
    },
    teardown: () => {
      model.dispose();
      x.dispose();
    },
  });
  return out;
}

let counted: MPFNet | null = null;
/** A default model for counting (summary needs no weights, but does need the module tree). */
function withModel(): MPFNet {
  counted ??= new MPFNet({ scale: 4 }, { generator: new Generator(0) });
  return counted;
}
