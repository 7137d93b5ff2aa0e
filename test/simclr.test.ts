// SimCLR for pretraining E (lib/losses/simclr.ts): NT-Xent against PyTorch
// (test/fixtures/gen_contrastive.py), finite differences, and the augmentations' contracts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Generator } from '../lib/index.js';
import { colorJitter, drawJitter, ntXent, resizedCropBox, simclrView, SIMCLR_AUGMENT } from '../lib/losses/simclr.js';
import { checkAgainstTorch, type FixtureCase } from './helpers/fixtures.js';
import { gradcheck, randLeaf } from './helpers/gradcheck.js';

const golden = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'contrastive.json'), 'utf8')) as { ntxent: FixtureCase[] };

describe('NT-Xent', () => {
  it.each(golden.ntxent.map((c) => [c.name, c] as const))('matches PyTorch: %s', (_n, c) => {
    checkAgainstTorch(c, (a, b) => ntXent(a, b, c.params.tau as number));
  });
  it('finite differences in float64', () => {
    gradcheck((a, b) => ntXent(a, b, 0.3), [randLeaf([3, 4], 1), randLeaf([3, 4], 2)]);
  });
});

describe('SimCLR augmentations', () => {
  const patch = () => {
    const h = 40;
    const w = 50;
    const data = Float32Array.from({ length: 3 * h * w }, (_, i) => 0.5 + 0.4 * Math.sin(i * 0.37 + (i % 7)));
    return { data, channels: 3, height: h, width: w };
  };

  it('random resized crops stay inside the patch with area 0.2–1.0 and aspect 3/4–4/3', () => {
    const g = new Generator(1);
    for (let k = 0; k < 200; k++) {
      const [top, left, h, w] = resizedCropBox(40, 50, SIMCLR_AUGMENT, g);
      expect(top >= 0 && left >= 0 && top + h <= 40 && left + w <= 50).toBe(true);
      const area = (h * w) / 2000;
      expect(area).toBeGreaterThan(0.17);
      expect(area).toBeLessThanOrEqual(1);
      expect(w / h).toBeGreaterThan(0.7);
      expect(w / h).toBeLessThan(1.42);
    }
  });

  it('views are deterministic from the generator, in [0, 1], and differ between draws', () => {
    const a = simclrView(patch(), 16, SIMCLR_AUGMENT, new Generator(3)).data;
    const b = simclrView(patch(), 16, SIMCLR_AUGMENT, new Generator(3)).data;
    const c = simclrView(patch(), 16, SIMCLR_AUGMENT, new Generator(4)).data;
    expect(a.length).toBe(3 * 16 * 16);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(a.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('colour jitter: neutral factors keep the image; greyscale makes the channels equal', () => {
    const p = patch();
    const before = Float32Array.from(p.data);
    colorJitter(p, { order: [0, 1, 2, 3], brightness: 1, contrast: 1, saturation: 1, hue: 0 });
    for (let i = 0; i < before.length; i++) expect(p.data[i]).toBeCloseTo(before[i]!, 6);
    // A full hue turn is the identity too (through HSV and back).
    colorJitter(p, { order: [3, 2, 1, 0], brightness: 1, contrast: 1, saturation: 1, hue: 1 });
    for (let i = 0; i < before.length; i++) expect(p.data[i]).toBeCloseTo(before[i]!, 5);
    const params = drawJitter([0.4, 0.4, 0.4, 0.1], new Generator(2));
    expect([...params.order].sort()).toEqual([0, 1, 2, 3]);
    expect(params.brightness).toBeGreaterThanOrEqual(0.6);
    expect(params.brightness).toBeLessThanOrEqual(1.4);
    expect(Math.abs(params.hue)).toBeLessThanOrEqual(0.1);
    const grey = simclrView(patch(), 8, { ...SIMCLR_AUGMENT, greyP: 1, jitterP: 0 }, new Generator(5)).data;
    for (let i = 0; i < 64; i++) expect(grey[i]).toBe(grey[64 + i]);
  });
});
