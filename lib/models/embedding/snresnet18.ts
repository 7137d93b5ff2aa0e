// The embedding network E of contrastive regularisation (docs/model.md §3): ContraD's SNResNet-18.
//   input x in [0, 1] -> 2x − 1
//   conv1    SN conv3×3 3→w0, LeakyReLU(0.1)                       tap 0
//   layer1   2 BasicBlocks, width w0, stride 1                     tap 1
//   layer2   2 BasicBlocks, width w1, stride 2                     tap 2
//   layer3   2 BasicBlocks, width w2, stride 2                     tap 3
//   layer4   2 BasicBlocks, width w3, stride 2
//   mean over H, W -> head: SN Linear(w3, 1024) -> LeakyReLU(0.1) -> SN Linear(1024, 128)
// BasicBlock: y = lrelu(conv2(lrelu(conv1(x))) + shortcut(x)), shortcut = SN conv1×1 (stride s)
// when the shape changes, else the identity. No BatchNorm; spectral norm on every conv and linear.
// Widths default to docs/model.md §3's 64/128/256/512; tests use narrower ones (config `widths`).
//
// Parameter names are PyTorch state-dict names of a module built with these attribute names
// (torch.nn.utils.spectral_norm on each layer): conv1.weight_orig, conv1.weight_u, conv1.weight_v,
// layer{1..4}.{0,1}.conv{1,2}.*, layer{k}.0.shortcut.*, head.0.* and head.2.* (head is
// nn.Sequential(Linear, LeakyReLU, Linear)), plus .bias where a layer has one (the linears; the
// convs only with convBias). So a PyTorch SNResNet-18 with these names loads ours and ours loads its.
import { isGradEnabled } from '../../autograd/scope.js';
import { ModuleList } from '../../nn/containers.js';
import type { InitOptions } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import { add, affine, leakyRelu, mean } from '../../ops/index.js';
import type { Tensor } from '../../tensor.js';
import { ConfigError, boolean, fail, integer, isPlainObject, number, rejectUnknown } from '../../util/validate.js';
import { SNConv2d, SNLinear, isSNLayer, type SpectralNormOptions } from './spectral-norm.js';

/** The embedding network's config: widths, head sizes, slope. */
export interface EmbeddingConfig {
  /** Widths of the four stages (default 64, 128, 256, 512, docs/model.md §3); conv1 has widths[0] channels. */
  widths: [number, number, number, number];
  /** Hidden and output sizes of the projection head (default 1024, 128, docs/model.md §3). */
  headHidden: number;
  headOut: number;
  /** LeakyReLU slope (default 0.1, docs/model.md §3). */
  slope: number;
  /** Biases on the convolutions (default false, as ResNet's convs; the linears always have one). */
  convBias: boolean;
  /** Power iterations per training-mode forward (PyTorch's default 1). */
  powerIterations: number;
}

/** ContraD's SNResNet-18 sizes (docs/model.md §3). */
export const DEFAULT_EMBEDDING_CONFIG: Readonly<EmbeddingConfig> = Object.freeze({
  widths: [64, 128, 256, 512] as [number, number, number, number],
  headHidden: 1024,
  headOut: 128,
  slope: 0.1,
  convBias: false,
  powerIterations: 1,
});

const FIELDS = ['widths', 'headHidden', 'headOut', 'slope', 'convBias', 'powerIterations'] as const;

/** A full, validated copy of `input` with the defaults of docs/model.md §3 filled in. */
export function resolveEmbeddingConfig(input: unknown = {}, where = 'embedding config'): EmbeddingConfig {
  if (!isPlainObject(input)) throw new ConfigError(`${where}: must be an object, got ${JSON.stringify(input)}`);
  rejectUnknown(input, FIELDS, where);
  const d = DEFAULT_EMBEDDING_CONFIG;
  const w = input.widths ?? d.widths;
  if (!Array.isArray(w) || w.length !== 4) fail(`${where}.widths`, `must be 4 stage widths like [64, 128, 256, 512], got ${JSON.stringify(w)}`);
  return {
    widths: w.map((x, i) => integer(x, `${where}.widths[${i}]`, 1, 8192)) as EmbeddingConfig['widths'],
    headHidden: integer(input.headHidden ?? d.headHidden, `${where}.headHidden`, 1, 65536),
    headOut: integer(input.headOut ?? d.headOut, `${where}.headOut`, 1, 65536),
    slope: number(input.slope ?? d.slope, `${where}.slope`, { min: 0, max: 1 }),
    convBias: boolean(input.convBias ?? d.convBias, `${where}.convBias`),
    powerIterations: integer(input.powerIterations ?? d.powerIterations, `${where}.powerIterations`, 0, 100),
  };
}

/** The config as the JSON stored in a file's metadata. */
export function embeddingConfigToJson(c: EmbeddingConfig): string {
  return JSON.stringify({ widths: c.widths, headHidden: c.headHidden, headOut: c.headOut, slope: c.slope, convBias: c.convBias, powerIterations: c.powerIterations });
}

/** Free intermediates at once when no graph can need them (sample passes under noGrad). */
function release(frozen: boolean, ...ts: Tensor[]): void {
  if (isGradEnabled() && !(frozen && ts.every((t) => !t.requiresGrad))) return;
  for (const t of ts) t.dispose();
}

/** ResNet's BasicBlock with spectral norm: conv3×3, LReLU, conv3×3, plus a shortcut, then LReLU. */
export class BasicBlock extends Module {
  readonly conv1: SNConv2d;
  readonly conv2: SNConv2d;
  readonly shortcut: SNConv2d | null;

  constructor(inC: number, outC: number, stride: number, readonly slope: number, o: SpectralNormOptions & { bias: boolean }) {
    super();
    this.conv1 = this.registerModule('conv1', new SNConv2d(inC, outC, 3, { ...o, stride, padding: 1 }));
    this.conv2 = this.registerModule('conv2', new SNConv2d(outC, outC, 3, { ...o, padding: 1 }));
    this.shortcut = stride !== 1 || inC !== outC ? this.registerModule('shortcut', new SNConv2d(inC, outC, 1, { ...o, stride })) : null;
  }

  /** x is the caller's (never freed here). `frozen`: E's weights need no gradient. */
  forward(x: Tensor, frozen = false): Tensor {
    const c1 = this.conv1.forward(x);
    const h = leakyRelu(c1, this.slope);
    release(frozen, c1);
    const c2 = this.conv2.forward(h);
    release(frozen, h);
    const s = this.shortcut ? this.shortcut.forward(x) : x;
    const sum = add(c2, s);
    release(frozen, c2);
    if (s !== x) release(frozen, s);
    const y = leakyRelu(sum, this.slope);
    release(frozen, sum);
    return y;
  }
}

/** nn.Sequential(Linear, LeakyReLU, Linear): children named 0 and 2 like PyTorch's. */
export class ProjectionHead extends Module {
  readonly fc1: SNLinear;
  readonly fc2: SNLinear;
  constructor(inF: number, hidden: number, out: number, readonly slope: number, o: SpectralNormOptions) {
    super();
    this.fc1 = this.registerModule('0', new SNLinear(inF, hidden, o));
    this.fc2 = this.registerModule('2', new SNLinear(hidden, out, o));
  }
  /** Apply the block to `x` (N, C, H, W). */
  forward(x: Tensor): Tensor {
    return this.fc2.forward(leakyRelu(this.fc1.forward(x), this.slope));
  }
}

/** The embedding network E of contrastive regularization: ContraD's SNResNet-18 (docs/model.md §3). */
export class SNResNet18 extends Module {
  readonly config: EmbeddingConfig;
  readonly conv1: SNConv2d;
  readonly layers: ModuleList<BasicBlock>[];
  readonly head: ProjectionHead;
  #frozen = false;

  constructor(config: Partial<EmbeddingConfig> = {}, o: InitOptions = {}) {
    super();
    const c = resolveEmbeddingConfig(config);
    this.config = c;
    const sn = { ...o, powerIterations: c.powerIterations };
    const conv = { ...sn, bias: c.convBias };
    this.conv1 = this.registerModule('conv1', new SNConv2d(3, c.widths[0], 3, { ...conv, padding: 1 }));
    this.layers = [];
    let inC = c.widths[0];
    c.widths.forEach((w, i) => {
      const stride = i === 0 ? 1 : 2;
      const stage = new ModuleList([new BasicBlock(inC, w, stride, c.slope, conv), new BasicBlock(w, w, 1, c.slope, conv)]);
      this.layers.push(this.registerModule(`layer${i + 1}`, stage));
      inC = w;
    });
    this.head = this.registerModule('head', new ProjectionHead(c.widths[3], c.headHidden, c.headOut, c.slope, sn));
  }

  /** Whether E is frozen (eval mode, σ fixed from the stored u and v). */
  get frozen(): boolean {
    return this.#frozen;
  }

  #stage(i: number, x: Tensor, free: boolean): Tensor {
    const [b0, b1] = [...this.layers[i]!];
    const h = b0!.forward(x, this.#frozen);
    if (free) release(this.#frozen, x);
    const y = b1!.forward(h, this.#frozen);
    release(this.#frozen, h);
    return y;
  }

  /** conv1's output (after its activation), the input already mapped to [−1, 1]. */
  #stem(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== 3) throw new RangeError(`SNResNet18: expected x of shape (N, 3, H, W), got [${x.shape.join(', ')}]`);
    const m = affine(x, 2, -1);
    const c = this.conv1.forward(m);
    release(this.#frozen, m);
    const y = leakyRelu(c, this.config.slope);
    release(this.#frozen, c);
    return y;
  }

  /**
   * The feature layers contrastive regularisation compares (docs/model.md §3's "first 4 layers"): conv1's
   * output and the outputs of stages 1–3 (layer4 and the head are not run).
   */
  taps(x: Tensor): [Tensor, Tensor, Tensor, Tensor] {
    const t0 = this.#stem(x);
    const t1 = this.#stage(0, t0, false);
    const t2 = this.#stage(1, t1, false);
    const t3 = this.#stage(2, t2, false);
    return [t0, t1, t2, t3];
  }

  /** The pooled layer4 features (N, widths[3]). */
  features(x: Tensor): Tensor {
    let h = this.#stem(x);
    for (let i = 0; i < 4; i++) h = this.#stage(i, h, true);
    const pooled = mean(h, [2, 3]);
    release(this.#frozen, h);
    return pooled;
  }

  /** The projection (N, headOut) that SimCLR pretraining contrasts. */
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features(x));
  }

  /** Spectrally normalised layers by dotted name. */
  *snLayers(): IterableIterator<[string, SNConv2d | SNLinear]> {
    for (const [name, m] of this.namedModules()) if (isSNLayer(m)) yield [name, m];
  }

  /** The power-iteration buffers (weight_u, weight_v of every layer). */
  *namedBuffers(): IterableIterator<[string, Tensor]> {
    for (const [name, m] of this.snLayers()) for (const [b, t] of m.buffers()) yield [`${name}.${b}`, t];
  }

  /**
   * `iterations` power iterations on every layer, without a forward: u and v near each weight's top
   * singular pair, so σ is right although no training step has run (a fresh PyTorch module's u, v
   * are random, and its σ estimate far too small until training has iterated them).
   */
  settle(iterations = 20): this {
    for (const [, m] of this.snLayers()) m.sn.powerIterate(m.weightOrig, iterations);
    return this;
  }

  /**
   * Frozen for contrastive regularisation: eval mode, no parameter requires a gradient, each
   * normalised weight computed once, and intermediates freed as soon as a pass allows.
   */
  freeze(): this {
    this.eval();
    for (const p of this.parameters()) p.requiresGrad = false;
    for (const [, m] of this.snLayers()) m.freeze();
    this.#frozen = true;
    return this;
  }

  override dispose(): void {
    for (const [, m] of this.snLayers()) m.sn.dispose();
    super.dispose();
  }

  /** Multiply-accumulates of taps() (to stage 3) and of the whole network, per image of h × w. */
  macs(h: number, w: number): { taps: number; total: number } {
    let taps = 0;
    let total = 0;
    let size: [number, number] = [h, w];
    const convMacs = (c: SNConv2d, hw: [number, number]) => c.macs(hw[0], hw[1]);
    const stem = convMacs(this.conv1, size);
    taps += stem;
    total += stem;
    this.layers.forEach((stage, i) => {
      let s = 0;
      for (const b of stage) {
        const out: [number, number] = [Math.floor((size[0] + 2 - 3) / b.conv1.stride) + 1, Math.floor((size[1] + 2 - 3) / b.conv1.stride) + 1];
        s += convMacs(b.conv1, size) + convMacs(b.conv2, out) + (b.shortcut ? convMacs(b.shortcut, size) : 0);
        size = out;
      }
      if (i < 3) taps += s;
      total += s;
    });
    total += this.head.fc1.inFeatures * this.head.fc1.outFeatures + this.head.fc2.inFeatures * this.head.fc2.outFeatures;
    return { taps, total };
  }
}
