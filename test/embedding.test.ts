// The embedding network E (lib/models/embedding/): spectral normalisation against
// torch.nn.utils.spectral_norm after the same power iterations, a narrow SNResNet-18 loaded from a
// PyTorch state dict giving PyTorch's taps, projection and input gradient, and its files.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Generator, memory, noGrad, rand, tensor, tidy } from '../lib/index.js';
import { SNConv2d, SNLinear } from '../lib/models/embedding/spectral-norm.js';
import { SNResNet18, resolveEmbeddingConfig } from '../lib/models/embedding/snresnet18.js';
import { createEmbedding, embeddingState, loadEmbedding, loadEmbeddingState, saveEmbedding } from '../lib/models/embedding/checkpoint.js';
import { encodeSafetensors, readSafetensors } from '../lib/io/safetensors.js';
import { checkAgainstTorch, fixtureWeights, type FixtureCase, type Stored } from './helpers/fixtures.js';
import { expectClose, gradcheck, randLeaf } from './helpers/gradcheck.js';

const golden = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'contrastive.json'), 'utf8')) as { spectral_norm: FixtureCase[]; snresnet18: FixtureCase[] };
const dir = mkdtempSync(join(tmpdir(), 'mpfnet-embedding-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const t64 = (s: Stored) => tensor(s.data, s.shape, { dtype: 'float64' });

describe('spectral norm (torch.nn.utils.spectral_norm)', () => {
  it.each(golden.spectral_norm.map((c) => [c.name, c] as const))('%s: three training-mode forwards give PyTorch\'s u, v, weight, output and gradients', (_n, c) => {
    const [orig, bias, u0, v0, x] = c.inputs;
    const conv = c.name === 'conv';
    const layer = conv
      ? new SNConv2d(orig!.shape[1]!, orig!.shape[0]!, orig!.shape[2]!, { padding: 1, bias: true, dtype: 'float64' })
      : new SNLinear(orig!.shape[1]!, orig!.shape[0]!, { dtype: 'float64' });
    layer.loadStateDict({ weight_orig: { shape: orig!.shape, data: Float64Array.from(orig!.data) }, bias: { shape: bias!.shape, data: Float64Array.from(bias!.data) } });
    layer.sn.setBuffers(t64(u0!), t64(v0!));
    layer.train();
    tidy(() => {
      const xin = t64(x!);
      noGrad(() => layer.forward(xin));
      noGrad(() => layer.forward(xin));
      xin.requiresGrad = true;
      const y = layer.forward(xin);
      expectClose(y.toFloat64Array(), c.outputs[0]!.data, 1e-5, 'output');
      expectClose(layer.sn.u.toFloat64Array(), c.outputs[2]!.data, 1e-5, 'u');
      expectClose(layer.sn.v.toFloat64Array(), c.outputs[3]!.data, 1e-5, 'v');
      expectClose(noGrad(() => layer.sn.weight(layer.weightOrig, false)).toFloat64Array(), c.outputs[1]!.data, 1e-5, 'normalised weight');
      y.backward(fixtureWeights(y.shape));
      expectClose(layer.weightOrig.grad!.toFloat64Array(), c.grads![0]!.data, 1e-4, 'grad weight_orig');
      expectClose(xin.grad!.toFloat64Array(), c.grads![1]!.data, 1e-4, 'grad x');
    });
    layer.sn.dispose();
    layer.dispose();
  });

  it('the gradient through σ passes finite differences (float64, eval mode: u and v fixed)', () => {
    const layer = new SNLinear(4, 3, { dtype: 'float64', generator: new Generator(5) });
    const w = randLeaf([3, 4], 10);
    gradcheck((ww) => layer.sn.weight(ww, false), [w]);
    w.dispose();
    layer.sn.dispose();
    layer.dispose();
  });

  it('settle() brings σ to the largest singular value: the normalised weight has spectral norm 1', () => {
    const layer = new SNConv2d(6, 5, 3, { dtype: 'float64', generator: new Generator(3) });
    const topSingular = (w: Float64Array, rows: number, cols: number) => {
      let v = Float64Array.from({ length: cols }, (_, i) => Math.cos(i + 1));
      let s = 0;
      for (let it = 0; it < 500; it++) {
        const u = Float64Array.from({ length: rows }, (_, r) => v.reduce((a, x, c) => a + w[r * cols + c]! * x, 0));
        const nv = Float64Array.from({ length: cols }, (_, c) => u.reduce((a, x, r) => a + w[r * cols + c]! * x, 0));
        s = Math.sqrt(Math.hypot(...nv));
        const n = Math.hypot(...nv);
        v = nv.map((x) => x / n);
      }
      return s;
    };
    const norm = () => topSingular(noGrad(() => layer.sn.weight(layer.weightOrig, false)).toFloat64Array(), 5, 54);
    expect(norm()).toBeGreaterThan(1.05); // random u, v underestimate σ
    layer.sn.powerIterate(layer.weightOrig, 50);
    expect(norm()).toBeCloseTo(1, 4);
    layer.sn.dispose();
    layer.dispose();
  });
});

describe('SNResNet-18', () => {
  const c = golden.snresnet18[0]!;
  const p = c.params as { config: { widths: number[]; headHidden: number; headOut: number }; state: Record<string, Stored>; order: string[] };
  const state = () => new Map(Object.entries(p.state).map(([k, v]) => [k, { shape: v.shape, data: Float64Array.from(v.data) }]));

  it('names its parameters and buffers like the PyTorch module, in state-dict order', () => {
    const e = new SNResNet18(p.config as never, { generator: new Generator(0) });
    expect(embeddingState(e).map(([n]) => n)).toEqual(p.order);
    e.dispose();
  });

  it('a PyTorch state dict gives PyTorch\'s taps, projection and input gradient', () => {
    const e = new SNResNet18(p.config as never, { generator: new Generator(0), dtype: 'float64' });
    loadEmbeddingState(e, state());
    e.eval();
    checkAgainstTorch(c, (x) => {
      const taps = e.taps(x);
      return [...taps, e.forward(x)];
    });
    // Frozen (weights normalised once, intermediates freed): the same taps.
    e.freeze();
    tidy(() => {
      const x = tensor(c.inputs[0]!.data, c.inputs[0]!.shape, { dtype: 'float64' });
      const taps = noGrad(() => e.taps(x));
      taps.forEach((t, i) => expectClose(t.toFloat64Array(), c.outputs[i]!.data, 1e-5, `frozen tap ${i}`));
    });
    e.dispose();
  });

  it('a frozen E passes gradients to its input only, and frees every intermediate of a noGrad pass', () => {
    const e = createEmbedding({ widths: [4, 4, 8, 8], headHidden: 8, headOut: 4 }, { seed: 2, dtype: 'float64' }).freeze();
    expect(e.parameters().every((t) => !t.requiresGrad)).toBe(true);
    const x = randLeaf([1, 3, 8, 8], 4, { scale: 0.3, shift: 0.5 });
    gradcheck((xx) => e.taps(xx)[3], [x]);
    const before = memory().tensors;
    tidy(() => {
      const live: number[] = [];
      const taps = noGrad(() => e.taps(rand([2, 3, 8, 8], { dtype: 'float64' })));
      live.push(memory().tensors);
      expect(live[0]! - before).toBe(1 + taps.length); // the input and the four taps
    });
    expect(memory().tensors).toBe(before);
    x.dispose();
    e.dispose();
  });

  it('saves and loads (our format, a PyTorch-named file without metadata), checking names and shapes', async () => {
    const e = createEmbedding({ widths: [4, 4, 8, 8], headHidden: 8, headOut: 4, convBias: true }, { seed: 3 });
    // Move u, v off their initial values so the buffers matter.
    e.train();
    tidy(() => void e.forward(rand([1, 3, 8, 8])));
    const path = join(dir, 'e.safetensors');
    await saveEmbedding(e, path);
    const back = loadEmbedding(path);
    expect(back.config).toEqual(e.config);
    const a = new Map(embeddingState(e));
    for (const [k, t] of embeddingState(back)) expect(t.toFloat32Array(), k).toEqual(a.get(k)!.toFloat32Array());
    // The same tensors without metadata (as safetensors.torch.save_file writes a state dict).
    const bare = join(dir, 'bare.safetensors');
    writeFileSync(bare, encodeSafetensors(readSafetensors(path).tensors as never));
    const inferred = loadEmbedding(bare);
    expect(inferred.config).toEqual(resolveEmbeddingConfig({ widths: [4, 4, 8, 8], headHidden: 8, headOut: 4, convBias: true }));
    // A file with a missing buffer and a misshaped weight is refused, naming both.
    const broken = new Map(readSafetensors(path).tensors);
    broken.delete('layer2.0.shortcut.weight_u');
    const w = broken.get('head.2.weight_orig')!;
    broken.set('head.2.weight_orig', { ...w, shape: [w.shape[1]!, w.shape[0]!] });
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, encodeSafetensors(broken as never, { format: 'mpfnet-embedding', config: JSON.stringify(e.config) }));
    expect(() => loadEmbedding(bad)).toThrow(/shape mismatch for 'head\.2\.weight_orig': expected \[4, 8\], got \[8, 4\]; missing 'layer2\.0\.shortcut\.weight_u'/);
    expect(() => loadEmbedding(join(dir, 'none.safetensors'))).toThrow();
    for (const m of [e, back, inferred]) m.dispose();
  });

  it('validates its config strictly', () => {
    expect(() => resolveEmbeddingConfig({ widths: [64, 128, 256] })).toThrow(/widths: must be 4 stage widths/);
    expect(() => resolveEmbeddingConfig({ width: [1, 2, 3, 4] })).toThrow(/unknown field 'width' \(did you mean 'widths'\?\)/);
    expect(resolveEmbeddingConfig({})).toEqual({ widths: [64, 128, 256, 512], headHidden: 1024, headOut: 128, slope: 0.1, convBias: false, powerIterations: 1 });
  });

  it('at the default width (docs/model.md §3): 11.8 M weights (convs 11.2 M, head 0.66 M); MACs of the taps at 192×192', () => {
    const e = createEmbedding({}, { settle: 0 });
    const n = e.numParameters();
    console.log(`SNResNet-18: ${n} parameters, taps at 192×192: ${(e.macs(192, 192).taps / 1e9).toFixed(2)} GMACs`);
    expect(n).toBe(11_815_744);
    e.dispose();
  });
});
