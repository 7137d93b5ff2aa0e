// Upscaling throughput end to end (decode excluded, worker included): the default ×4 model with
// seeded weights on a photo crop, for several tile sizes, in tiles/s and megapixels/s (input and
// output), with the share of the work spent on overlaps. Measurements, not tests.
//
// npm run bench -- upscale [--quick]   (quick: a 128×128 input and two tile sizes)
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../bindings/index.js';
import { Upscaler, planTiles, type RawPixels } from '../lib/infer/index.js';
import { readImage } from '../lib/io/image.js';
import { createModel } from '../lib/models/mpfnet/mpfnet.js';
import { machineInfo, writeJsonAtomic } from './harness.js';

export const group = 'upscale';

interface Row {
  size: number;
  tile: number;
  tilePad: number;
  tiles: number;
  seconds: number;
  tilesPerSecond: number;
  inputMpixPerSecond: number;
  outputMpixPerSecond: number;
  /** Input pixels the network computed / input pixels: the overlap overhead. */
  workFactor: number;
}

async function photoCrop(size: number): Promise<RawPixels> {
  const img = await readImage(join(packageRoot(), 'data', 'images', 'coffee.png'));
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size * 3; x++) data[y * size * 3 + x] = img.data[(y % img.height) * img.width * 3 + (x % (img.width * 3))]!;
  return { data, width: size, height: size, channels: 3 };
}

export async function run(o: { quick: boolean }): Promise<void> {
  const size = o.quick ? 128 : 256;
  const settings: [number, number][] = o.quick ? [[64, 16], [0, 0]] : [[64, 16], [128, 16], [192, 16], [0, 0]];
  const model = createModel({}, { seed: 1 });
  const up = await Upscaler.create({ model });
  const input = await photoCrop(size);
  const rows: Row[] = [];
  try {
    await up.upscale(input, { tile: 32, tilePad: 8 }); // warm-up: worker start, allocator
    for (const [tile, tilePad] of settings) {
      const plan = planTiles(size, size, tile, tilePad);
      const t0 = performance.now();
      await up.upscale(input, { tile, tilePad });
      const seconds = (performance.now() - t0) / 1000;
      const work = plan.count * plan.rows.window * plan.cols.window;
      rows.push({
        size,
        tile,
        tilePad,
        tiles: plan.count,
        seconds,
        tilesPerSecond: plan.count / seconds,
        inputMpixPerSecond: (size * size) / 1e6 / seconds,
        outputMpixPerSecond: (16 * size * size) / 1e6 / seconds,
        workFactor: work / (size * size),
      });
    }
  } finally {
    await up.close();
    model.dispose();
  }
  console.log(`\n${group}: default ×4 MPF-Net (seeded weights), ${size}×${size} input`);
  console.table(rows.map((r) => ({ tile: r.tile || 'whole', pad: r.tilePad, tiles: r.tiles, s: r.seconds.toFixed(2), 'tiles/s': r.tilesPerSecond.toFixed(2), 'in MPix/s': r.inputMpixPerSecond.toFixed(4), 'out MPix/s': r.outputMpixPerSecond.toFixed(3), 'work ×': r.workFactor.toFixed(2) })));
  const path = join(packageRoot(), 'bench', 'results', `${group}.json`);
  writeJsonAtomic(path, { group, machine: machineInfo(), options: { size, quick: o.quick }, rows });
  console.log(`wrote ${path}`);
}

// Allow `node dist/bench/upscale.bench.js` directly as well as through run.ts.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await run({ quick: process.argv.includes('--quick') });
