// Metric timings on a 2K image (2040×1356, DIV2K's size): PSNR, SSIM (RGB and Y), NIQE, and
// LPIPS-Alex with synthetic weights (the cost does not depend on the values). No PyTorch peer:
// these are the BasicSR-convention implementations, timed for validation budgets.
import { imageToTensor, readImage, tensorToImage, type Image } from '../lib/io/image.js';
import { imresize } from '../lib/ops/resize.js';
import { noGrad, tidy } from '../lib/index.js';
import { cropBorder, niqe, psnrPlanes, rgbToY, ssimPlanes, toPlanes, type Planes } from '../lib/metrics/index.js';
import { packageRoot } from '../bindings/index.js';
import { join } from 'node:path';
import type { BenchCase } from './harness.js';

export const group = 'metrics';

let images: { gt: Image; pred: Image; gtP: Planes; predP: Planes; gtY: Planes; predY: Planes } | null = null;

async function prepare(): Promise<void> {
  const src = await readImage(join(packageRoot(), 'test', 'fixtures', 'metrics', 'baboon_gt.png'));
  const [gt, pred] = tidy(() => {
    const big = imresize(imageToTensor(src), { size: [1356, 2040] });
    const lr = imresize(big, { scale: 0.25 });
    return [tensorToImage(big), tensorToImage(imresize(lr, { size: [1356, 2040] }))];
  });
  const gtP = cropBorder(toPlanes(gt), 4);
  const predP = cropBorder(toPlanes(pred), 4);
  images = { gt, pred, gtP, predP, gtY: rgbToY(gtP), predY: rgbToY(predP) };
}

export async function run(o: { quick: boolean }): Promise<void> {
  await prepare();
  const { runGroup } = await import('./harness.js');
  const cs: BenchCase[] = [
    { group, name: 'psnr RGB 2040x1356 (planes)', params: {}, flops: 0, fn: () => void psnrPlanes(images!.predP, images!.gtP) },
    { group, name: 'ssim RGB 2040x1356 (planes)', params: {}, flops: 0, fn: () => void ssimPlanes(images!.predP, images!.gtP) },
    { group, name: 'ssim Y 2040x1356 (planes)', params: {}, flops: 0, fn: () => void ssimPlanes(images!.predY, images!.gtY) },
    { group, name: 'image -> planes + crop + Y 2040x1356', params: {}, flops: 0, fn: () => void rgbToY(cropBorder(toPlanes(images!.pred), 4)) },
    { group, name: 'niqe 2040x1356', params: {}, flops: 0, fn: () => void niqe(images!.pred) },
  ];
  try {
    const { LPIPS, lpipsParameterShapes } = await import('../lib/metrics/lpips.js');
    const w = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, shape] of lpipsParameterShapes('alex')) {
      const n = shape.reduce((a, b) => a * b, 1);
      const d = new Float32Array(n);
      for (let i = 0; i < n; i++) d[i] = Math.sin(i * 0.7071) * 0.05;
      w.set(name, { shape, data: d });
    }
    const net = LPIPS.fromTensors('alex', w);
    const a = imageToTensor(images!.pred);
    const b = imageToTensor(images!.gt);
    cs.push({ group, name: 'lpips alex 2040x1356', params: {}, flops: 0, fn: () => void noGrad(() => net.distance(a, b)), teardown: () => undefined });
  } catch (e) {
    console.log(`(lpips skipped: ${(e as Error).message.split('\n')[0]})`);
  }
  await runGroup(group, cs, o.quick ? { timeMs: 200, iterations: 2 } : { timeMs: 1000, iterations: 5 });
}

export function cases(): BenchCase[] {
  return [];
}
