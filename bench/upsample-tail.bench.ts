// upsampleTail (native/cpu/upsample_tail.cc): MPF-Net's last upsampler stage, its pixel shuffle and
// the tail (52 -> 208 3x3, shuffle 2, 52 -> 3 3x3) as one composed 52 -> 12 5x5 convolution,
// against our own chain of the three ops, at the last stage's input sizes of a 128² and a 256²
// x4 inference (256² and 512² maps). The peer (bench/peers/pytorch_upsample-tail.py) runs the chain
// (PyTorch has no such fusion). Both run at the upscaler's 'fp32' precision. `flops` counts the chain
// as direct convolutions, so the two paths' GFLOP/s compare as speed; `realFlops` (for "% fp32
// peak") is what each executes: the composed 5x5 convolution's multiply-adds, or the chain's two
// Winograd convolutions' (F(6x6) from 16 MB of input, F(4x4) below: native/cpu/conv2d.cc).
import { Generator, conv2d, mulScalar, noGrad, pixelShuffle, randn, setInferencePrecision, tidy, upsampleTail, type InferencePrecision, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'upsample-tail';

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  const [c, mid, r, o] = [52, 52, 2, 3];
  for (const size of [256, 512]) {
    const hw = size * size;
    const stageFlops = 2 * hw * mid * r * r * c * 9, tailFlops = 2 * hw * r * r * o * mid * 9;
    // Multiplications per output of the Winograd tile 'fp32' takes for an input of this many bytes.
    const winograd = (bytes: number) => (bytes >= 16 * 2 ** 20 ? 36 * 9 / 64 : 16 * 9 / 36);
    const chainReal = stageFlops / winograd(4 * c * hw) + tailFlops / winograd(4 * mid * r * r * hw);
    for (const path of ['composed', 'chain'] as const) {
      let x: Tensor, wz: Tensor, bz: Tensor, wt: Tensor, bt: Tensor;
      let before: InferencePrecision;
      out.push({
        group,
        name: `${path} 52x${size}x${size} -> 208 -> shuffle 2 -> 3`,
        params: { path, shape: [1, c, size, size], mid, r, out: o },
        flops: stageFlops + tailFlops,
        realFlops: path === 'composed' ? 2 * hw * o * r * r * c * 25 : chainReal,
        setup: () => {
          before = setInferencePrecision('fp32');
          const g = new Generator(size);
          x = randn([1, c, size, size], { generator: g });
          wz = mulScalar(randn([mid * r * r, c, 3, 3], { generator: g }), 0.05);
          bz = randn([mid * r * r], { generator: g });
          wt = mulScalar(randn([o, mid, 3, 3], { generator: g }), 0.05);
          bt = randn([o], { generator: g });
        },
        fn: () =>
          noGrad(() =>
            tidy(() => {
              if (path === 'composed') upsampleTail(x, wz, bz, r, wt, bt);
              else conv2d(pixelShuffle(conv2d(x, wz, bz, { padding: 1 }), r), wt, bt, { padding: 1 });
            }),
          ),
        teardown: () => {
          setInferencePrecision(before);
          for (const t of [x, wz, bz, wt, bt]) t.dispose();
        },
      });
    }
  }
  return out;
}
