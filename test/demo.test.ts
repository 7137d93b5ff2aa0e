// `mpfnet demo --quick`: trains a tiny model on the bundled photos, evaluates it against bicubic on
// the held-out one and writes the side-by-side PNG. (The full demo, which must beat bicubic, takes
// minutes; its numbers are in docs/cli.md.) Run in-process through main(), as the CLI runs it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../lib/cli/main.js';
import { EXIT } from '../lib/cli/common.js';
import { DEMO_HELD_OUT, type DemoResult } from '../lib/demo/run-demo.js';
import { enlargeNearest, sideBySide } from '../lib/demo/side-by-side.js';
import { readImage, type Image } from '../lib/io/image.js';
import { loadModel } from '../lib/models/mpfnet/mpfnet.js';

const dir = mkdtempSync(join(tmpdir(), 'mpfnet-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  try {
    return { code: await main(argv), out: out.join('\n') };
  } finally {
    log.mockRestore();
  }
}

describe('mpfnet demo', () => {
  it('--quick trains, evaluates against bicubic on the held-out photo and writes the comparison PNG', async () => {
    const out = join(dir, 'quick');
    const r = await run('demo', '--quick', '--out', out, '--json', '--threads', '2');
    expect(r.code).toBe(EXIT.ok);
    const j = JSON.parse(r.out) as DemoResult;
    expect(j.heldOut).toBe(DEMO_HELD_OUT);
    expect(j.trainImages).not.toContain(DEMO_HELD_OUT);
    expect(j.trainImages.length).toBeGreaterThan(0);
    expect(j.scale).toBe(2);
    for (const s of [j.bicubic, j.ours]) {
      expect(s.psnr).toBeGreaterThan(10);
      expect(s.ssim).toBeGreaterThan(0);
      expect(s.ssim).toBeLessThanOrEqual(1);
    }
    expect(j.gain.psnr).toBeCloseTo(j.ours.psnr - j.bicubic.psnr, 10);
    const png = await readImage(j.comparison);
    // Four panels of the evaluated size, 8-pixel gaps.
    expect([png.width, png.height]).toEqual([4 * j.size[0] + 3 * 8, j.size[1]]);
    // The trained model is usable with `mpfnet upscale --model`.
    const m = loadModel(j.modelPath);
    expect(m.config).toMatchObject({ scale: 2, channels: j.model.channels, nCpb: j.model.nCpb });
    m.dispose();
    // A second run into the same folder starts over instead of refusing.
    const again = await run('demo', '--quick', '--out', out, '--json', '--iters', '5');
    expect(again.code).toBe(EXIT.ok);
    expect((JSON.parse(again.out) as DemoResult).iterations).toBe(5);
  });

  it('prints the table people read', async () => {
    const r = await run('demo', '--quick', '--out', join(dir, 'text'), '--iters', '3');
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toMatch(/bicubic\s+\d+\.\d\d dB\s+0\.\d{4}/);
    expect(r.out).toMatch(/MPF-Net\s+\d+\.\d\d dB/);
    expect(r.out).toMatch(/gain\s+[+-]\d+\.\d\d dB/);
    expect(r.out).toMatch(/comparison \(LR \| bicubic \| MPF-Net \| ground truth\)/);
  });

  it('side-by-side panels: LR enlarged by replication, white gaps', () => {
    const px = (w: number, h: number, v: number): Image => ({ data: new Uint8Array(w * h * 3).fill(v), width: w, height: h, channels: 3, bitDepth: 8, format: 'raw', hasAlpha: false });
    const lr = px(2, 1, 10);
    lr.data[3] = 20;
    const big = enlargeNearest(lr, 2);
    expect([big.width, big.height]).toEqual([4, 2]);
    expect(Array.from(big.data.filter((_, i) => i % 3 === 0))).toEqual([10, 10, 20, 20, 10, 10, 20, 20]);
    const s = sideBySide([big, px(4, 2, 50)], 2);
    expect(s.width).toBe(10);
    expect(s.data[(0 * 10 + 4) * 3]).toBe(255);
    expect(s.data[(1 * 10 + 6) * 3]).toBe(50);
    expect(() => sideBySide([big, px(4, 3, 0)])).toThrow(/height/);
  });
});
