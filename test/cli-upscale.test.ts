// `mpfnet upscale` end to end, as a child process running the compiled CLI (so the worker loads
// from compiled JavaScript, as in a package): a folder with one corrupt image (the acceptance:
// four outputs, an error naming the fifth, exit code 1, no partial file), single files,
// --skip-existing, --json, and the errors a user meets first.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../lib/cli/common.js';
import { encodeImage, readImage } from '../lib/io/image.js';
import { createModel } from '../lib/models/mpfnet/mpfnet.js';
import { buildCli, cleanupCli, runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'mpfnet-cli-upscale-'));
const model = join(dir, 'm.safetensors');
const inDir = join(dir, 'in');

beforeAll(async () => {
  buildCli();
  const m = createModel({ scale: 2, channels: 8, nCpb: 1 }, { seed: 5 });
  await m.save(model);
  m.dispose();
  mkdirSync(inDir);
  for (let k = 0; k < 4; k++) {
    const w = 20 + 4 * k;
    const h = 16 + 2 * k;
    const data = new Uint8Array(w * h * 3).map((_, i) => (i * 37 + k * 11) % 256);
    writeFileSync(join(inDir, `img${k}.png`), await encodeImage({ data, width: w, height: h, channels: 3, bitDepth: 8, format: 'raw', hasAlpha: false }, { format: 'png' }));
  }
  // A PNG signature followed by garbage: the decoder fails on it.
  writeFileSync(join(inDir, 'img4-corrupt.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]));
}, 300_000);

afterAll(() => {
  cleanupCli();
  rmSync(dir, { recursive: true, force: true });
});

describe('mpfnet upscale', () => {
  it('a folder with one corrupt image: four outputs, the fifth named, exit 1, no partial file', () => {
    const out = join(dir, 'out');
    const r = runCli(['upscale', inDir, '-o', out, '--model', model, '--tile', '12', '--tile-pad', '4', '--json']);
    expect(r.status, r.stderr).toBe(EXIT.failure);
    const j = JSON.parse(r.stdout) as { images: { status: string; input: string; output: string; error?: string; outWidth?: number }[]; done: number; failed: number };
    expect([j.done, j.failed]).toEqual([4, 1]);
    const failed = j.images.find((x) => x.status === 'failed')!;
    expect(failed.input).toMatch(/img4-corrupt\.png$/);
    expect(failed.error).toMatch(/img4-corrupt\.png/);
    expect(r.stderr).toMatch(/failed:\n.*img4-corrupt\.png/);
    // Exactly the four outputs: no output for the corrupt one, no temp files left behind.
    expect(readdirSync(out).sort()).toEqual(['img0.png', 'img1.png', 'img2.png', 'img3.png']);
    expect(j.images.find((x) => x.input.endsWith('img3.png'))!.outWidth).toBe(64);
  });

  it('--skip-existing leaves finished images alone; --format changes the extension', async () => {
    const out = join(dir, 'out');
    const r = runCli(['upscale', inDir, '-o', out, '--model', model, '--skip-existing', '--json']);
    expect(r.status).toBe(EXIT.failure);
    const j = JSON.parse(r.stdout) as { done: number; skipped: number; failed: number };
    expect([j.done, j.skipped, j.failed]).toEqual([0, 4, 1]);
    const webp = join(dir, 'webp');
    const w = runCli(['upscale', join(inDir, 'img0.png'), '-o', webp + '/', '--model', model, '--format', 'webp', '-q']);
    expect(w.status, w.stderr).toBe(EXIT.ok);
    expect((await readImage(join(webp, 'img0.webp'))).format).toBe('webp');
  });

  it('a single file with --outscale; plain output names the result', async () => {
    const dst = join(dir, 'one.png');
    const r = runCli(['upscale', join(inDir, 'img1.png'), '-o', dst, '--model', model, '--outscale', '3.5', '--threads', '1', '--device', 'cpu']);
    expect(r.status, r.stderr).toBe(EXIT.ok);
    expect(r.stderr).toMatch(/img1\.png \(24×18\) -> .*one\.png \(84×63/);
    const img = await readImage(dst);
    expect([img.width, img.height]).toEqual([84, 63]);
  });

  it('without --model: a clear error and exit 2; --help shows examples and exit codes', () => {
    const r = runCli(['upscale', join(inDir, 'img0.png'), '-o', join(dir, 'x.png')]);
    expect(r.status).toBe(EXIT.usage);
    expect(r.stderr).toMatch(/--model .* is required.*no pretrained weights.*mpfnet demo/s);
    expect(existsSync(join(dir, 'x.png'))).toBe(false);
    const bad = runCli(['upscale', join(inDir, 'img0.png'), '-o', join(dir, 'x.png'), '--model', join(dir, 'missing.safetensors')]);
    expect(bad.status).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/missing\.safetensors/);
    const h = runCli(['upscale', '--help']);
    expect(h.status).toBe(EXIT.ok);
    expect(h.stdout).toMatch(/Examples:\n\s+\$ mpfnet upscale/);
    expect(h.stdout).toMatch(/Exit codes:/);
  });
});
