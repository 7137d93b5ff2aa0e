// Peak memory of `mpfnet upscale` end to end (decode, tiles, blend, encode, atomic write): the
// default ×4 model with seeded weights on a 2048×2048 photo (an 8192×8192 PNG out) with the
// default tile 192 / pad 16, in a child process whose peak RSS (process.resourceUsage().maxRSS:
// every thread, the libvips buffers included) is printed as it exits. A measurement, not a test.
//
// npm run bench -- upscale-rss [--quick]   (quick: a 512×512 input)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { packageRoot } from '../bindings/index.js';
import { getNumThreads } from '../lib/memory.js';
import { machineInfo, writeJsonAtomic } from './harness.js';

export const group = 'upscale-rss';

function cli(args: string[]): { stderr: string; seconds: number } {
  const root = packageRoot();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', join(root, 'bench', 'maxrss-preload.mjs'), join(root, 'bin', 'mpfnet.js'), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mpfnet ${args[0]} failed (${r.status}): ${r.stderr}`);
  return { stderr: r.stderr, seconds: (performance.now() - t0) / 1000 };
}

export async function run(o: { quick: boolean }): Promise<void> {
  const size = o.quick ? 512 : 2048;
  const dir = mkdtempSync(join(tmpdir(), 'mpfnet-rss-'));
  try {
    const input = join(dir, 'in.png');
    await sharp(join(packageRoot(), 'data', 'images', 'coffee.png')).resize(size, size).png().toFile(input);
    const model = join(dir, 'model.safetensors');
    cli(['init', '-o', model, '--seed', '1']);
    const precision = process.env.MPFNET_BENCH_PRECISION;
    const r = cli(['upscale', input, '-o', join(dir, 'out.png'), '-m', model, '-q', ...(precision ? ['--precision', precision] : [])]);
    const kib = Number(/maxRSS (\d+)/.exec(r.stderr)?.[1] ?? NaN);
    const row = { size, outSize: 4 * size, tile: 192, tilePad: 16, threads: getNumThreads(), precision: precision ?? 'default', peakRssGiB: kib / 2 ** 20, seconds: r.seconds };
    console.log(`\n${group}: mpfnet upscale ${size}×${size} → ${4 * size}×${4 * size} PNG, default ×4 model, tile 192 / pad 16`);
    console.table([{ 'peak RSS GiB': row.peakRssGiB.toFixed(3), 's': row.seconds.toFixed(1), threads: row.threads, precision: row.precision }]);
    const path = join(packageRoot(), 'bench', 'results', `${group}.json`);
    writeJsonAtomic(path, { group, machine: machineInfo(), options: { quick: o.quick }, rows: [row] });
    console.log(`wrote ${path}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Allow `node dist/bench/upscale-rss.bench.js` directly as well as through run.ts.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await run({ quick: process.argv.includes('--quick') });
