import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { writeSafetensors } from '../lib/io/safetensors.js';
import { LPIPS, lpipsParameterShapes, type LpipsNet } from '../lib/metrics/lpips.js';
import { expectClose } from './helpers/gradcheck.js';

interface Case {
  net: LpipsNet;
  shape: [number, number, number, number];
  lpips: number[];
  stages: number[][];
  same: number[];
}
const golden = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'lpips.json'), 'utf8')) as { cases: Case[] };
const dir = mkdtempSync(join(tmpdir(), 'mpfnet-lpips-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The synthetic weights of test/fixtures/gen_lpips.py, element for element. */
function syntheticWeights(net: LpipsNet): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  let j = 0;
  for (const [name, shape] of lpipsParameterShapes(net)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const head = name.startsWith('lin');
    const amp = name.endsWith('.bias') ? 0.05 : Math.sqrt(4 / (shape[1]! * shape[2]! * shape[3]!));
    const data = new Float32Array(n);
    const phase = (j + 1) * 1.2345;
    for (let i = 0; i < n; i++) {
      const s = Math.sin(i * 0.7071067811865476 + phase);
      data[i] = head ? Math.abs(s) * 0.1 : s * amp;
    }
    out.set(name, { shape, data });
    j++;
  }
  return out;
}

function image([n, , h, w]: number[], phase: number): mp.Tensor {
  const data = new Float32Array(n! * 3 * h! * w!);
  let i = 0;
  for (let k = 0; k < n!; k++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < h!; y++)
        for (let x = 0; x < w!; x++) data[i++] = 0.5 + 0.45 * Math.sin(0.37 * x + 0.23 * y + 1.7 * c + 0.9 * k + phase + 0.013 * x * y);
  return mp.tensor(data, [n!, 3, h!, w!]);
}

describe('LPIPS', () => {
  for (const c of golden.cases) {
    it(`${c.net}: matches the PyTorch reference on [${c.shape.join(', ')}]`, async () => {
      let net: LPIPS;
      if (c.net === 'alex') {
        // Through a weights file, as users load them.
        const path = join(dir, 'alex.safetensors');
        await writeSafetensors(path, syntheticWeights('alex'), { lpips_net: 'alex' });
        net = LPIPS.load(path);
      } else {
        net = LPIPS.fromTensors(c.net, syntheticWeights(c.net));
      }
      try {
        mp.tidy(() => {
          const a = image(c.shape, 0);
          const b = image(c.shape, 0.4);
          const d = mp.noGrad(() => net.forward(a, b));
          expect(d.shape).toEqual([c.shape[0], 1, 1, 1]);
          expectClose(d.toFloat32Array(), c.lpips, 1e-4, `${c.net} lpips`);
          const same = mp.noGrad(() => net.forward(a, a)).toFloat32Array();
          for (const v of same) expect(v).toBe(0);
          if (c.shape[0] === 1) expect(net.distance(a, b)).toBeCloseTo(c.lpips[0]!, 5);
        });
      } finally {
        net.dispose();
      }
    });
  }

  it('is differentiable (usable as a loss)', () => {
    const net = LPIPS.fromTensors('alex', syntheticWeights('alex'));
    try {
      mp.tidy(() => {
        const a = image([1, 3, 64, 64], 0);
        a.requiresGrad = true;
        const loss = mp.sum(net.forward(a, image([1, 3, 64, 64], 0.4)));
        loss.backward();
        expect(a.grad!.shape).toEqual([1, 3, 64, 64]);
        expect(a.grad!.toFloat32Array().every((v) => Number.isFinite(v))).toBe(true);
      });
    } finally {
      net.dispose();
    }
  });

  it('names missing or misshapen tensors and unknown backbones', async () => {
    const w = syntheticWeights('alex');
    w.delete('lin3.weight');
    expect(() => LPIPS.fromTensors('alex', w)).toThrow(/missing tensor 'lin3.weight' \(shape \[1, 256, 1, 1\]\)/);
    const v = syntheticWeights('alex');
    v.set('features.3.weight', { shape: [192, 64, 3, 3], data: new Float32Array(192 * 64 * 9) });
    expect(() => LPIPS.fromTensors('alex', v)).toThrow(/'features.3.weight' has shape \[192, 64, 3, 3\], expected \[192, 64, 5, 5\]/);
    const path = join(dir, 'odd.safetensors');
    await writeSafetensors(path, { x: { shape: [1], data: new Float32Array(1) } });
    expect(() => LPIPS.load(path)).toThrow(/cannot tell the backbone/);
    const net = LPIPS.fromTensors('alex', syntheticWeights('alex'));
    try {
      mp.tidy(() => {
        expect(() => net.forward(mp.rand([1, 1, 64, 64]), mp.rand([1, 1, 64, 64]))).toThrow(/'a' must be \(N, 3, H, W\)/);
        expect(() => net.forward(mp.rand([1, 3, 64, 64]), mp.rand([1, 3, 64, 65]))).toThrow(/differ in shape/);
      });
    } finally {
      net.dispose();
    }
  });
});
