// A default ×4 MPF-Net trained for a few dozen Adam steps on patches of data/images: weights with
// the statistics of training (grown, correlated kernels, activations of an image-like range) for
// the inference-precision bounds (test/inference-precision.test.ts, bench/onnx.bench.ts), without
// committing a 24 MB checkpoint. Deterministic (seeded). lr 5e-4: at 2e-3 (no warm-up) these
// steps blow the activations up (rms 1e2 after 30 steps); at 5e-4 the L1 loss falls 0.48 -> 0.07.
import { join } from 'node:path';
import { packageRoot } from '../bindings/index.js';
import * as mp from '../lib/index.js';
import { createModel, type MPFNet } from '../lib/models/mpfnet/mpfnet.js';

const IMAGES = ['camera.png', 'chelsea.png', 'coffee.png', 'text.png'];

/** Planar RGB in [0, 1] of image `img` at (top, left), size x size (grey images repeated). */
function crop(img: mp.Image, top: number, left: number, size: number, out: Float32Array, offset: number): void {
  const max = img.bitDepth === 16 ? 65535 : 255;
  const plane = size * size;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++) {
        const ch = img.channels >= 3 ? c : 0;
        out[offset + c * plane + y * size + x] = img.data[((top + y) * img.width + left + x) * img.channels + ch]! / max;
      }
}

/** A batch of HR patches (size², from data/images, seeded) and their ×4 bicubic LR versions. */
export async function patchBatch(count: number, size: number, rng: mp.Generator): Promise<{ lr: mp.Tensor; hr: mp.Tensor }> {
  images ??= await Promise.all(IMAGES.map((f) => mp.readImage(join(packageRoot(), 'data', 'images', f))));
  const data = new Float32Array(count * 3 * size * size);
  for (let i = 0; i < count; i++) {
    const img = images[rng.nextInt(images.length)]!;
    crop(img, rng.nextInt(img.height - size), rng.nextInt(img.width - size), size, data, i * 3 * size * size);
  }
  const hr = mp.tensor(data, [count, 3, size, size]);
  const lr = mp.noGrad(() => mp.clamp(mp.imresize(hr, { scale: 1 / 4 }), 0, 1));
  return { lr, hr };
}

let images: mp.Image[] | undefined;

/** The default ×4 model after `steps` Adam steps (L1) on batches of 4 patches of 64² (~15 s on one thread). */
export async function brieflyTrainedX4(steps = 40, seed = 3, lr = 5e-4, log?: (loss: number) => void): Promise<MPFNet> {
  const model = createModel({ scale: 4 }, { seed });
  const opt = new mp.Adam(model.parameters(), { lr });
  const rng = new mp.Generator(seed);
  for (let s = 0; s < steps; s++) {
    const { lr, hr } = await patchBatch(4, 64, rng);
    mp.tidy(() => {
      opt.zeroGrad();
      const loss = mp.l1Loss(model.forward(lr), hr);
      loss.backward();
      log?.(loss.item());
      opt.step();
    });
    lr.dispose();
    hr.dispose();
  }
  return model;
}
