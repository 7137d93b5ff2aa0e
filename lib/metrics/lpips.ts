// LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
// Metric", version 0.1): an ImageNet backbone (AlexNet or VGG16 features) applied to both images,
// each of five ReLU stages unit-normalised over channels, squared differences weighted per channel
// by a learned linear head (a 1×1 convolution without bias), averaged over space and summed over
// stages. Built on the op API, so it is differentiable and can serve as a loss.
//
// No weights ship with mpfnet. LPIPS.load reads a safetensors file with these names (torchvision's
// for the backbone, the official LPIPS heads renamed), float32 or float64:
//   features.<i>.weight, features.<i>.bias   backbone convolutions, <i> = torchvision's index:
//                                            alex: 0 3 6 8 10; vgg: 0 2 5 7 10 12 14 17 19 21 24 26 28
//   lin<k>.weight                            head k = 0..4, shape (1, C_k, 1, 1) ("lin<k>.model.1.weight"
//                                            in the official .pth files)
//   __metadata__: {"lpips_net": "alex" | "vgg"} (optional: inferred from the names)
// tools/lpips_to_safetensors.py converts the official files.
import { readSafetensors } from '../io/safetensors.js';
import { noGrad, tidy } from '../autograd/scope.js';
import { tensor } from '../ops/creation.js';
import { add, div, mul, sub } from '../ops/binary.js';
import { conv2d } from '../ops/conv.js';
import { maxPool2d } from '../ops/maxpool.js';
import { mean, sum } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import { addScalar, affine, relu, sqrt, square } from '../ops/unary.js';
import type { DType, Device, Tensor } from '../tensor.js';

/** The LPIPS backbone: AlexNet or VGG16. */
export type LpipsNet = 'alex' | 'vgg';

/** One backbone layer: a convolution (followed by ReLU) or a max pooling; `tap` ends a stage. */
type Layer = { conv: number; in: number; out: number; k: number; stride: number; pad: number; tap?: boolean } | { pool: number; k: number; stride: number };

const ALEX: Layer[] = [
  { conv: 0, in: 3, out: 64, k: 11, stride: 4, pad: 2, tap: true },
  { pool: 2, k: 3, stride: 2 },
  { conv: 3, in: 64, out: 192, k: 5, stride: 1, pad: 2, tap: true },
  { pool: 5, k: 3, stride: 2 },
  { conv: 6, in: 192, out: 384, k: 3, stride: 1, pad: 1, tap: true },
  { conv: 8, in: 384, out: 256, k: 3, stride: 1, pad: 1, tap: true },
  { conv: 10, in: 256, out: 256, k: 3, stride: 1, pad: 1, tap: true },
];

function vggLayers(): Layer[] {
  const out: Layer[] = [];
  const blocks = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];
  let i = 0;
  let cin = 3;
  blocks.forEach((widths, b) => {
    if (b > 0) out.push({ pool: i++, k: 2, stride: 2 });
    widths.forEach((w, j) => {
      out.push({ conv: i, in: cin, out: w, k: 3, stride: 1, pad: 1, tap: j === widths.length - 1 });
      i += 2; // conv, relu
      cin = w;
    });
  });
  return out;
}

export const LPIPS_LAYERS: Record<LpipsNet, readonly Layer[]> = { alex: ALEX, vgg: vggLayers() };
/** Channels of the five stages whose differences the heads weigh. */
export const LPIPS_CHANNELS: Record<LpipsNet, readonly number[]> = { alex: [64, 192, 384, 256, 256], vgg: [64, 128, 256, 512, 512] };

// The input normalisation of LPIPS v0.1 (its ScalingLayer), applied to images in [-1, 1].
const SHIFT = [-0.03, -0.088, -0.188];
const SCALE = [0.458, 0.448, 0.45];

/** Options of {@link LPIPS.load}. */
export interface LpipsLoadOptions {
  /** The backbone; default: the file's lpips_net metadata, else inferred from the tensor names. */
  net?: LpipsNet;
  dtype?: DType;
  device?: Device;
}

/** Options of {@link LPIPS.forward}. */
export interface LpipsForwardOptions {
  /** Inputs are in [0, 1] (default true); false: already in [-1, 1], like lpips' normalize=False. */
  normalize?: boolean;
}

/** The parameter names and shapes a weights file for `net` must hold. */
export function lpipsParameterShapes(net: LpipsNet): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const l of LPIPS_LAYERS[net]) {
    if (!('conv' in l)) continue;
    m.set(`features.${l.conv}.weight`, [l.out, l.in, l.k, l.k]);
    m.set(`features.${l.conv}.bias`, [l.out]);
  }
  LPIPS_CHANNELS[net].forEach((c, k) => m.set(`lin${k}.weight`, [1, c, 1, 1]));
  return m;
}

/** The LPIPS perceptual distance (v0.1) with weights from a safetensors file (docs/metrics.md). */
export class LPIPS {
  readonly net: LpipsNet;
  readonly #params: Map<string, Tensor>;
  readonly #shift: Tensor;
  readonly #scale: Tensor;

  private constructor(net: LpipsNet, params: Map<string, Tensor>, dtype: DType, device: Device) {
    this.net = net;
    this.#params = params;
    this.#shift = tensor(SHIFT, [1, 3, 1, 1], { dtype, device });
    this.#scale = tensor(SCALE, [1, 3, 1, 1], { dtype, device });
  }

  /** Build from named arrays (see the file comment for names and shapes). */
  static fromTensors(net: LpipsNet, records: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array | Float64Array }>, o: { dtype?: DType; device?: Device; source?: string } = {}): LPIPS {
    const src = o.source ?? 'LPIPS weights';
    const dtype = o.dtype ?? 'float32';
    const device = o.device ?? 'cpu';
    const params = new Map<string, Tensor>();
    try {
      for (const [name, shape] of lpipsParameterShapes(net)) {
        const r = records.get(name);
        if (!r) throw new RangeError(`${src}: missing tensor '${name}' (shape [${shape.join(', ')}]) for the ${net} LPIPS network`);
        const n = shape.reduce((a, b) => a * b, 1);
        const got = r.shape.reduce((a, b) => a * b, 1);
        // Heads may be stored as (1, C) or (C) too: only the element count has to agree.
        const isHead = name.startsWith('lin');
        if (isHead ? got !== n : r.shape.length !== shape.length || r.shape.some((d, i) => d !== shape[i]))
          throw new RangeError(`${src}: '${name}' has shape [${r.shape.join(', ')}], expected [${shape.join(', ')}]`);
        params.set(name, tensor(r.data, shape, { dtype, device }));
      }
    } catch (e) {
      for (const t of params.values()) t.dispose();
      throw e;
    }
    return new LPIPS(net, params, dtype, device);
  }

  /** Load a safetensors weights file (see the file comment for the expected names). */
  static load(path: string, o: LpipsLoadOptions = {}): LPIPS {
    const file = readSafetensors(path);
    let net = o.net ?? (file.metadata.lpips_net as LpipsNet | undefined);
    if (net === undefined) net = file.tensors.has('features.28.weight') ? 'vgg' : file.tensors.has('features.10.weight') ? 'alex' : undefined;
    if (net !== 'alex' && net !== 'vgg') throw new RangeError(`LPIPS.load: ${path}: cannot tell the backbone (lpips_net metadata ${JSON.stringify(file.metadata.lpips_net ?? null)}); pass {net: 'alex' | 'vgg'}`);
    return LPIPS.fromTensors(net, file.tensors, { dtype: o.dtype, device: o.device, source: `LPIPS.load: ${path}` });
  }

  /** The five stage outputs of the backbone for x (N, 3, H, W) in [-1, 1]. */
  features(x: Tensor): Tensor[] {
    let h = div(sub(x, this.#shift), this.#scale);
    const taps: Tensor[] = [];
    for (const l of LPIPS_LAYERS[this.net]) {
      if ('pool' in l) h = maxPool2d(h, l.k, l.stride);
      else {
        h = relu(conv2d(h, this.#params.get(`features.${l.conv}.weight`)!, this.#params.get(`features.${l.conv}.bias`), { stride: l.stride, padding: l.pad }));
        if (l.tap) taps.push(h);
      }
    }
    return taps;
  }

  /**
   * LPIPS per image, shape (N, 1, 1, 1), differentiable. a and b are (N, 3, H, W) in [0, 1]
   * (or [-1, 1] with normalize: false).
   */
  forward(a: Tensor, b: Tensor, o: LpipsForwardOptions = {}): Tensor {
    for (const [n, t] of [['a', a], ['b', b]] as const) {
      if (t.rank !== 4 || t.shape[1] !== 3) throw new RangeError(`LPIPS: '${n}' must be (N, 3, H, W), got [${t.shape.join(', ')}]`);
    }
    if (a.shape.some((d, i) => d !== b.shape[i])) throw new RangeError(`LPIPS: the images differ in shape: [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
    const norm = o.normalize ?? true;
    const fa = this.features(norm ? affine(a, 2, -1) : a);
    const fb = this.features(norm ? affine(b, 2, -1) : b);
    let total: Tensor | null = null;
    for (let k = 0; k < fa.length; k++) {
      const d = square(sub(unitNormalize(fa[k]!), unitNormalize(fb[k]!)));
      const v = mean(conv2d(d, this.#params.get(`lin${k}.weight`)!, null), [2, 3], true);
      total = total ? add(total, v) : v;
    }
    return total!;
  }

  /** LPIPS of one pair of images [1, 3, H, W] (or [3, H, W]) in [0, 1], as a number. */
  distance(a: Tensor, b: Tensor, o: LpipsForwardOptions = {}): number {
    return noGrad(() =>
      tidy(() => {
        const x = a.rank === 3 ? reshape(a, [1, ...a.shape]) : a;
        const y = b.rank === 3 ? reshape(b, [1, ...b.shape]) : b;
        const d = this.forward(x, y, o).toFloat64Array();
        if (d.length !== 1) throw new RangeError(`LPIPS.distance: expected one image per input, got ${d.length}; use forward() for batches`);
        return d[0]!;
      }),
    );
  }

  /** Free the network's weights. */
  dispose(): void {
    for (const t of this.#params.values()) t.dispose();
    this.#shift.dispose();
    this.#scale.dispose();
  }
}

/** x / (‖x‖₂ over channels + 1e-10), as LPIPS normalises its features. */
function unitNormalize(x: Tensor): Tensor {
  return div(x, addScalar(sqrt(sum(mul(x, x), [1], true)), 1e-10));
}
