// MPF-Net (docs/model.md §1):
//   h0 = head(x) ; L = mpfe(h0) ; L = cpbs[n](L) for each CPB ; y = body(fuse(concat L)) + h0
//   out = tail(up(y))   (at inference on the CPU, up's last stage and tail as one convolution)
// With the tape off (noGrad: inference, validation, the CR teacher) forward frees every intermediate
// as soon as nothing needs it: the peak is a few feature maps (the levels, the CPB's two paths, one
// block's internals) instead of every activation of the network (~880 MB at 96×96 for the default
// model). With the tape on they stay, for backward.
// Parameter names follow docs/model.md §1 exactly, so a PyTorch module built with the same attribute names
// loads our checkpoints with load_state_dict, and ours load theirs.
import { isGradEnabled, releaseUnlessRecording as release, tidyUnlessRecording } from '../../autograd/scope.js';
import { readSafetensors, writeSafetensors, writeSafetensorsSync, type TensorData } from '../../io/safetensors.js';
import { Conv2d } from '../../nn/conv2d.js';
import { ModuleList } from '../../nn/containers.js';
import type { InitOptions } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import { add, addInPlace, clamp } from '../../ops/index.js';
import { Generator } from '../../random.js';
import type { Device, DType, Tensor } from '../../tensor.js';
import { CrossPerceptionBlock } from './cpb.js';
import { configToJson, resolveModelConfig, type MPFNetConfig, type MPFNetConfigInput } from './config.js';
import { MPFE } from './mpfe.js';
import { Upsampler } from './upsampler.js';

/** The `format` in checkpoints' __metadata__. */
export const CHECKPOINT_FORMAT = 'mpfnet';

/** Options of {@link MPFNet.forward}. */
export interface ForwardOptions {
  /** Runs after every block and upsampling stage; may throw to stop (e.g. cancellation). */
  afterBlock?: () => void;
}

/** The MPF-Net super-resolution network (docs/model.md §1). */
export class MPFNet extends Module {
  readonly config: MPFNetConfig;
  readonly head: Conv2d;
  readonly mpfe: MPFE;
  readonly cpbs: ModuleList<CrossPerceptionBlock>;
  readonly fuse: Conv2d;
  readonly body: Conv2d;
  readonly up: Upsampler;
  readonly tail: Conv2d;

  /** Build the model with PyTorch's default initialisation, drawn in state-dict order from `o.generator`. */
  constructor(config: MPFNetConfigInput = {}, o: InitOptions = {}) {
    super();
    const c = resolveModelConfig(config);
    this.config = c;
    const C = c.channels;
    const same3 = { ...o, padding: 1 };
    this.head = this.registerModule('head', new Conv2d(3, C, 3, same3));
    this.mpfe = this.registerModule('mpfe', new MPFE(C, c.mpfe, o));
    this.cpbs = this.registerModule('cpbs', new ModuleList(Array.from({ length: c.nCpb }, () => new CrossPerceptionBlock(C, c.mpfe.length, c.seReduction, c.crossFusion, o))));
    this.fuse = this.registerModule('fuse', new Conv2d(c.mpfe.length * C, C, 1, o));
    this.body = this.registerModule('body', new Conv2d(C, C, 3, same3));
    this.up = this.registerModule('up', new Upsampler(C, c.scale, o));
    this.tail = this.registerModule('tail', new Conv2d(C, 3, 3, same3));
  }

  /** The upscaling factor. */
  get scale(): 2 | 3 | 4 {
    return this.config.scale;
  }

  /**
   * x (N, 3, h, w) in [0, 1] -> (N, 3, s·h, s·w), not clamped (clamp for images: forwardImage).
   * `afterBlock` runs after every block and upsampling stage; it may throw (the upscaler's
   * cancellation). Call it inside tidy() so that a throw frees what was made so far.
   */
  forward(x: Tensor, o: ForwardOptions = {}): Tensor {
    if (x.rank !== 4 || x.shape[1] !== 3) throw new RangeError(`MPFNet.forward: expected x of shape (N, 3, h, w), got [${x.shape.join(', ')}]`);
    const h0 = this.head.forward(x);
    let levels = this.mpfe.forward(h0);
    o.afterBlock?.();
    for (const cpb of this.cpbs) {
      const next = cpb.forward(levels, o);
      release(...levels);
      levels = next;
    }
    const fused = tidyUnlessRecording(() => this.body.forward(this.fuse.forward(levels)));
    release(...levels);
    // With the tape off fused is a temporary: the global residual goes into it.
    let y: Tensor;
    if (isGradEnabled()) {
      y = add(fused, h0);
      release(fused, h0);
    } else {
      addInPlace(fused, h0);
      y = fused;
      release(h0);
    }
    // tail(up(y)); at inference on the CPU the last upsampling stage and the tail run as one
    // composed convolution (Upsampler.forwardWithTail decides).
    try {
      return this.up.forwardWithTail(y, this.tail, { afterStage: o.afterBlock });
    } finally {
      release(y);
    }
  }

  /** forward, clamped to [0, 1], as for images. */
  forwardImage(x: Tensor, o: ForwardOptions = {}): Tensor {
    const y = this.forward(x, o);
    const out = clamp(y, 0, 1);
    release(y);
    return out;
  }

  /** The metadata written into checkpoints so a file alone rebuilds its model. */
  metadata(): Record<string, string> {
    return { format: CHECKPOINT_FORMAT, config: configToJson(this.config) };
  }

  /** The weights as safetensors entries, in state-dict order. */
  tensorData(): [string, TensorData][] {
    return [...this.namedParameters()].map(([n, t]) => [n, { shape: t.shape, data: t.dtype === 'float64' ? t.toFloat64Array() : t.toFloat32Array() }]);
  }

  /** Write the weights and config as a safetensors file (atomically). */
  async save(path: string, extraMetadata: Record<string, string> = {}): Promise<void> {
    await writeSafetensors(path, this.tensorData(), { ...extraMetadata, ...this.metadata() });
  }

  /** Write the model file synchronously (atomic), with optional extra metadata. */
  saveSync(path: string, extraMetadata: Record<string, string> = {}): void {
    writeSafetensorsSync(path, this.tensorData(), { ...extraMetadata, ...this.metadata() });
  }
}

/** Options of {@link createModel}. */
export interface CreateModelOptions {
  /** Seed of the initialisation (default 0): the same seed gives the same weights everywhere. */
  seed?: number;
  dtype?: DType;
  device?: Device;
}

/** A freshly initialised MPF-Net. */
export function createModel(config: MPFNetConfigInput = {}, o: CreateModelOptions = {}): MPFNet {
  const m = new MPFNet(config, { generator: new Generator(o.seed ?? 0), dtype: o.dtype ?? 'float32' });
  if (o.device && o.device !== 'cpu') m.to(o.device);
  return m;
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  dtype?: DType;
  device?: Device;
  /** Config fields that must match the file's (e.g. the scale a caller expects). */
  expect?: Partial<MPFNetConfig>;
  /** From a training checkpoint: the trained ('model', default) or the averaged ('ema') weights. */
  weights?: 'model' | 'ema';
}

/** The `format` of training checkpoints (lib/train/checkpoint.ts), whose weights are prefixed. */
const TRAIN_FORMAT = 'mpfnet-train';

/** Rebuild a model from a checkpoint written by save() / `mpfnet init` / a training run. */
export function loadModel(path: string, o: LoadModelOptions = {}): MPFNet {
  const file = readSafetensors(path);
  const metadata = file.metadata;
  let tensors = file.tensors;
  if (metadata.format === TRAIN_FORMAT) {
    const prefix = `${o.weights ?? 'model'}.`;
    tensors = new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    if (!tensors.size) throw new RangeError(`loadModel: ${path} holds no '${prefix}*' weights`);
  } else if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new RangeError(`loadModel: ${path} is not an MPF-Net checkpoint (__metadata__.format is ${JSON.stringify(metadata.format ?? null)}, expected "${CHECKPOINT_FORMAT}")`);
  } else if (o.weights === 'ema') {
    throw new RangeError(`loadModel: ${path} holds one set of weights; 'ema' applies to training checkpoints`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(metadata.config ?? '');
  } catch {
    throw new RangeError(`loadModel: ${path}: __metadata__.config is not valid JSON: ${JSON.stringify(metadata.config ?? null).slice(0, 80)}`);
  }
  const config = resolveModelConfig(raw, `${path}: __metadata__.config`);
  for (const [k, v] of Object.entries(o.expect ?? {})) {
    if (JSON.stringify((config as unknown as Record<string, unknown>)[k]) !== JSON.stringify(v)) {
      throw new RangeError(`loadModel: ${path} has ${k} = ${JSON.stringify((config as unknown as Record<string, unknown>)[k])}, expected ${JSON.stringify(v)}`);
    }
  }
  // A private generator: loading must not advance the global one (the draws are overwritten anyway).
  const model = new MPFNet(config, { dtype: o.dtype ?? 'float32', generator: new Generator(0) });
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    model.dispose();
    throw new RangeError(`loadModel: ${path}: ${(e as Error).message}`);
  }
  if (o.device && o.device !== 'cpu') model.to(o.device);
  return model;
}
