// Small dataset folders in the RealSR / DRealSR / paired layouts, built from the project's photographs
// (data/images, bundled, and test/fixtures/images; attribution in NOTICE.md): HR = a crop, LR = the
// crop resized by 1/scale with sharp.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';

const REPO = resolve(__dirname, '..', '..');
const IMAGE_DIRS = [join(REPO, 'data', 'images'), join(REPO, 'test', 'fixtures', 'images')];

/** The path of a test photograph by file name (bundled in data/images or kept in test/fixtures/images). */
export function photoPath(name: string): string {
  for (const d of IMAGE_DIRS) if (existsSync(join(d, name))) return join(d, name);
  throw new Error(`test photo '${name}' is in neither ${IMAGE_DIRS.join(' nor ')}`);
}
/** RGB and grey photographs, at least 300 pixels on each side. */
export const PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'camera.png', 'brick.png', 'gravel.png'];

export interface PairPng {
  hr: Buffer;
  lr: Buffer;
}

/** An HR crop of size×size at (top, left) of a shared photo and its LR (size/scale) as PNGs. */
export async function makePair(photo: string, size: number, scale: number, at = { top: 20, left: 30 }): Promise<PairPng> {
  const hr = await sharp(photoPath(photo)).extract({ left: at.left, top: at.top, width: size, height: size }).png().toBuffer();
  const lr = await sharp(hr).resize(size / scale, size / scale, { kernel: 'cubic' }).png().toBuffer();
  return { hr, lr };
}

export function put(path: string, data: Buffer | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  return path;
}

/** root/HR/<name>.png + root/LR/<name>x<scale>.png for each photo; returns the names. */
export async function buildPaired(root: string, o: { scale: number; size: number; photos?: string[] }): Promise<string[]> {
  const names: string[] = [];
  for (const [i, photo] of (o.photos ?? PHOTOS.slice(0, 4)).entries()) {
    const name = `img${i}`;
    const p = await makePair(photo, o.size, o.scale);
    put(join(root, 'HR', `${name}.png`), p.hr);
    put(join(root, 'LR', `${name}x${o.scale}.png`), p.lr);
    names.push(name);
  }
  return names;
}

/** DRealSR: root/HR/DSC_<n>_x1.png + root/LR/DSC_<n>_x<scale>.png. */
export async function buildDRealSR(root: string, o: { scale: number; size: number; count?: number }): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < (o.count ?? 3); i++) {
    const name = `DSC_${String(988 + i).padStart(4, '0')}`;
    const p = await makePair(PHOTOS[i]!, o.size, o.scale);
    put(join(root, 'HR', `${name}_x1.png`), p.hr);
    put(join(root, 'LR', `${name}_x${o.scale}.png`), p.lr);
    names.push(name);
  }
  return names;
}

/** RealSR V3: root/<Cam>/{Train,Test}/<scale>/<Cam>_<nnn>_HR.png + _LR<scale>.png. */
export async function buildRealSR(root: string, o: { scale: number; size: number; cameras?: string[]; perSplit?: number }): Promise<void> {
  let k = 0;
  for (const cam of o.cameras ?? ['Canon', 'Nikon']) {
    for (const split of ['Train', 'Test']) {
      for (let i = 1; i <= (o.perSplit ?? 2); i++) {
        const p = await makePair(PHOTOS[k++ % PHOTOS.length]!, o.size, o.scale, { top: 10 * i, left: 20 * i });
        const base = join(root, cam, split, String(o.scale), `${cam}_${String(i).padStart(3, '0')}`);
        put(`${base}_HR.png`, p.hr);
        put(`${base}_LR${o.scale}.png`, p.lr);
      }
    }
  }
}
