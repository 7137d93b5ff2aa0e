// `mpfnet resize` and `mpfnet eval` end to end, including docs/model.md §4's acceptance: resize the ×4 LR
// fixtures by 4, evaluate against the ground truth with crop 4, get the published numbers.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../lib/cli/common.js';
import { evalCommand, matchKey, pairFiles } from '../lib/cli/commands/eval.js';
import { resizeCommand } from '../lib/cli/commands/resize.js';
import { readImage } from '../lib/io/image.js';
import { item } from './helpers/fixtures.js';

const FIX = join(__dirname, 'fixtures', 'metrics');

/** What `mpfnet eval --json` prints (lib/cli/commands/eval.ts). */
interface EvalJson {
  images: { name: string; pred: string; gt?: string; psnr?: number; ssim?: number; niqe?: number; error?: string }[];
  mean: Record<string, number | null>;
  count: number;
  failed: number;
  options: { crop: number };
}
const evalJson = (out: string) => JSON.parse(out) as EvalJson;
/** Image i of an eval report (a clear error when the report is shorter). */
const image = (j: EvalJson, i: number) => item(j.images, i, 'images');
const dir = mkdtempSync(join(tmpdir(), 'mpfnet-cli-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the commands like lib/cli/main.ts does (same exit-code mapping), capturing the output. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  let code: number = EXIT.ok;
  const program = new Command('mpfnet').exitOverride().configureOutput({ writeErr: (s) => err.push(s), writeOut: (s) => out.push(s) });
  for (const c of [resizeCommand, evalCommand]) c.register(program, (rc) => (code = rc));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) code = EXIT.usage;
    else {
      err.push(`mpfnet: ${(e as Error).message}`);
      code = e instanceof TypeError || e instanceof RangeError ? EXIT.usage : EXIT.failure;
    }
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const PUBLISHED = {
  rgb: { baboon: [20.41971, 0.391853], comic: [20.239912, 0.567738] },
  y: { baboon: [22.441898, 0.453097], comic: [21.720398, 0.585511] },
} as const;

describe('mpfnet resize + eval (docs/model.md §4 acceptance)', () => {
  const sr = join(dir, 'sr');
  const gt = join(dir, 'gt');

  it('resize ×4 of the LR fixtures writes 8-bit PNGs of the GT size', async () => {
    mkdirSync(sr);
    mkdirSync(gt);
    for (const name of ['baboon', 'comic']) {
      const r = await cli('resize', join(FIX, `${name}_lq_x4.png`), '-o', join(sr, `${name}_SR.png`), '--scale', '4');
      expect(r.code, r.err).toBe(EXIT.ok);
      copyFileSync(join(FIX, `${name}_gt.png`), join(gt, `${name}_gt.png`));
      const a = await readImage(join(sr, `${name}_SR.png`));
      const b = await readImage(join(gt, `${name}_gt.png`));
      expect([a.width, a.height, a.bitDepth, a.channels]).toEqual([b.width, b.height, 8, 3]);
    }
    const ref = (JSON.parse(readFileSync(join(__dirname, 'fixtures', 'metrics.json'), 'utf8')) as { images: { baboon: { sr_sum: number } } }).images;
    expect([...(await readImage(join(sr, 'baboon_SR.png'))).data].reduce((s, v) => s + v, 0)).toBe(ref.baboon.sr_sum);
  });

  for (const mode of ['rgb', 'y'] as const) {
    it(`eval --crop 4${mode === 'y' ? ' --y' : ''} reproduces the published PSNR / SSIM`, async () => {
      const r = await cli('eval', '--pred', sr, '--gt', gt, '--crop', '4', '--json', ...(mode === 'y' ? ['--y'] : []));
      expect(r.code, r.err).toBe(EXIT.ok);
      const j = JSON.parse(r.out) as { images: { name: string; psnr: number; ssim: number }[]; mean: { psnr: number; ssim: number }; count: number };
      expect(j.count).toBe(2);
      for (const img of j.images) {
        const [p, s] = PUBLISHED[mode][img.name as 'baboon' | 'comic'];
        expect(Math.abs(img.psnr - p), `${img.name} PSNR ${img.psnr}`).toBeLessThan(1e-4);
        expect(Math.abs(img.ssim - s), `${img.name} SSIM ${img.ssim}`).toBeLessThan(1e-5);
      }
      expect(j.mean.psnr).toBeCloseTo((j.images[0]!.psnr + j.images[1]!.psnr) / 2, 12);
    });
  }

  it('prints a table with a row per image and the mean', async () => {
    const r = await cli('eval', '--pred', sr, '--gt', gt, '--crop', '4', '--metrics', 'psnr,ssim,niqe');
    expect(r.code, r.err).toBe(EXIT.ok);
    expect(r.out).toMatch(/image\s+PSNR\s+SSIM\s+NIQE/);
    expect(r.out).toMatch(/baboon\s+20\.4197\s+0\.3919\s+\d+\.\d{4}/);
    expect(r.out).toMatch(/comic\s+20\.2399\s+0\.5677/);
    expect(r.out).toMatch(/mean\s+20\.3298/);
  });

  it('NIQE needs no ground truth: baboon_gt.png gives 5.7296', async () => {
    const r = await cli('eval', '--pred', join(FIX, 'baboon_gt.png'), '--metrics', 'niqe', '--json');
    expect(r.code, r.err).toBe(EXIT.ok);
    expect(Math.abs((image(evalJson(r.out), 0).niqe ?? NaN) - 5.7296)).toBeLessThan(1e-3);
  });
});

describe('mpfnet resize / eval options and errors', () => {
  it('resize --size is width × height', async () => {
    const out = join(dir, 'small.png');
    const r = await cli('resize', join(FIX, 'comic_gt.png'), '-o', out, '--size', '100x50', '--quiet');
    expect(r.code, r.err).toBe(EXIT.ok);
    expect(r.out).toBe('');
    const img = await readImage(out);
    expect([img.width, img.height]).toEqual([100, 50]);
  });

  it('resize reports unreadable inputs by name with exit code 2', async () => {
    const bad = join(dir, 'broken.png');
    writeFileSync(bad, readFileSync(join(FIX, 'comic_lq_x4.png')).subarray(0, 500));
    const r = await cli('resize', bad, '-o', join(dir, 'never.png'), '--scale', '2');
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toContain('broken.png');
    expect((await cli('resize', bad, '-o', join(dir, 'x.png'))).code).toBe(EXIT.usage);
    expect((await cli('resize', bad, '-o', join(dir, 'x.png'), '--scale', '-2')).code).toBe(EXIT.usage);
  });

  it('eval matches names with role suffixes or a --pattern', async () => {
    expect(matchKey('a/baboon_lq_x4.png')).toBe('baboon');
    expect(matchKey('Canon_001_LR4.png')).toBe('Canon_001');
    expect(matchKey('DSC_0988_x1.png')).toBe('DSC_0988');
    expect(matchKey('img_012_SR.png')).toBe('img_012');
    expect(matchKey('SR_baboon.png', /^SR_(.*)$/)).toBe('baboon');
    expect(matchKey('baboon_gt.png', /^SR_(.*)$/)).toBe('baboon');
    expect(matchKey('out-baboon.png', /^out-/)).toBe('baboon');
    const { pairs, unmatched } = pairFiles(['p/a_SR.png', 'p/b_SR.png', 'p/c.png'], ['g/a_HR.png', 'g/b.png', 'g/d.png']);
    expect(pairs.map((p) => [p.name, p.gt])).toEqual([['a', 'g/a_HR.png'], ['b', 'g/b.png']]);
    expect(unmatched).toEqual(['p/c.png', 'g/d.png']);
    expect(() => pairFiles(['x.png', 'y.png'], ['g/a_gt.png', 'g/a_lq.png'])).toThrow(/both match the name 'a'/);

    const pdir = join(dir, 'pattern');
    mkdirSync(pdir);
    copyFileSync(join(dir, 'sr', 'comic_SR.png'), join(pdir, 'SR_comic.png'));
    const r = await cli('eval', '--pred', pdir, '--gt', join(dir, 'gt'), '--pattern', '^SR_(.*)$', '--crop', '4', '--json');
    expect(r.code, r.err).toBe(EXIT.ok);
    const j = evalJson(r.out);
    expect(j.images.map((i) => i.name)).toEqual(['comic']);
    expect(r.err).toContain("no partner for '" + join(dir, 'gt', 'baboon_gt.png'));
  });

  it('eval: usage errors give exit code 2, failed images exit code 1 with the others measured', async () => {
    expect((await cli('eval', '--pred', join(dir, 'sr'))).code).toBe(EXIT.usage); // psnr needs --gt
    expect((await cli('eval', '--pred', join(dir, 'sr'), '--gt', join(dir, 'gt'), '--metrics', 'psnr,fid')).code).toBe(EXIT.usage);
    expect((await cli('eval', '--pred', join(dir, 'nope'), '--gt', join(dir, 'gt'))).code).toBe(EXIT.usage);
    expect((await cli('eval', '--pred', join(dir, 'sr'), '--gt', join(dir, 'gt'), '--metrics', 'lpips')).err).toMatch(/--lpips-weights/);
    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    copyFileSync(join(dir, 'sr', 'baboon_SR.png'), join(mixed, 'baboon.png'));
    copyFileSync(join(dir, 'small.png'), join(mixed, 'comic.png'));
    const r = await cli('eval', '--pred', mixed, '--gt', join(dir, 'gt'), '--json');
    expect(r.code).toBe(EXIT.failure);
    const j = evalJson(r.out);
    expect(j.count).toBe(1);
    expect(image(j, 1).error).toMatch(/100×50×3 but the ground truth 240×360×3/);
    expect(r.err).toContain('comic');
  });
});

describe('through the mpfnet entry point', () => {
  it('resize and eval are registered in lib/cli/main.ts', async () => {
    const { main } = await import('../lib/cli/main.js');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const out = join(dir, 'main-resize.png');
      expect(await main(['resize', join(FIX, 'comic_lq_x4.png'), '-o', out, '--scale', '2'])).toBe(EXIT.ok);
      expect((await readImage(out)).width).toBe(120);
      expect(await main(['eval', '--pred', out, '--gt', out])).toBe(EXIT.ok);
      expect(await main(['eval', '--pred', out])).toBe(EXIT.usage);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });

  it('eval --model super-resolves --lr with a checkpoint and measures the outputs (crop = scale)', async () => {
    const { createModel } = await import('../lib/models/mpfnet/index.js');
    const ckpt = join(dir, 'tiny.safetensors');
    const model = createModel({ scale: 4, channels: 8, nCpb: 1, mpfe: [[1, 1], [3, 2]], seReduction: 4 }, { seed: 1 });
    await model.save(ckpt);
    model.dispose();
    const lr = join(dir, 'lr');
    mkdirSync(lr);
    copyFileSync(join(FIX, 'comic_lq_x4.png'), join(lr, 'comic_LR4.png'));
    const r = await cli('eval', '--model', ckpt, '--lr', lr, '--gt', join(dir, 'gt'), '--metrics', 'psnr,ssim', '--json');
    expect(r.code, r.err).toBe(EXIT.ok);
    const j = evalJson(r.out);
    expect(j.options.crop).toBe(4);
    expect(j.images).toHaveLength(1);
    expect(image(j, 0).name).toBe('comic');
    expect(Number.isFinite(image(j, 0).psnr)).toBe(true);
    // Tiled (the default 192, and 32 with pad 8) and whole-image runs measure the same to 1e-3 dB.
    for (const flags of [['--tile', '0'], ['--tile', '32', '--tile-pad', '8']]) {
      const t = await cli('eval', '--model', ckpt, '--lr', lr, '--gt', join(dir, 'gt'), '--metrics', 'psnr', '--json', ...flags);
      expect(t.code, t.err).toBe(EXIT.ok);
      expect(Math.abs((image(evalJson(t.out), 0).psnr ?? NaN) - (image(j, 0).psnr ?? NaN))).toBeLessThan(1e-3);
    }
    expect((await cli('eval', '--model', ckpt, '--lr', lr, '--tile', '-1')).code).toBe(EXIT.usage);
    expect((await cli('eval', '--model', ckpt, '--pred', lr, '--gt', join(dir, 'gt'))).code).toBe(EXIT.usage);
  });
});
