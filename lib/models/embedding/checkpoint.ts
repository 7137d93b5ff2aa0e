// E's weights as safetensors files: PyTorch state-dict names and order (per layer: bias,
// weight_orig, weight_u, weight_v), so `safetensors.torch.save_file(model.state_dict(), …)` of a
// PyTorch SNResNet-18 with the same attribute names loads here and our files load there.
// __metadata__: {"format": "mpfnet-embedding", "config": "<json>"}. A file without our metadata
// (exported from PyTorch) loads too: the config is read off the tensor shapes. Pretraining
// checkpoints ("mpfnet-embedding-train", weights under "model.") load as well.
import { readSafetensors, writeSafetensors, type TensorData } from '../../io/safetensors.js';
import { tensor } from '../../ops/creation.js';
import { Generator } from '../../random.js';
import type { DType, Tensor } from '../../tensor.js';
import { embeddingConfigToJson, resolveEmbeddingConfig, SNResNet18, type EmbeddingConfig } from './snresnet18.js';

/** `__metadata__.format` of an embedding file. */
export const EMBEDDING_FORMAT = 'mpfnet-embedding';
/** `__metadata__.format` of an embedding pretraining checkpoint. */
export const EMBEDDING_TRAIN_FORMAT = 'mpfnet-embedding-train';

type Raw = { shape: readonly number[]; data: Float32Array | Float64Array };

function data(t: Tensor): TensorData {
  return { shape: t.shape, data: t.dtype === 'float64' ? t.toFloat64Array() : t.toFloat32Array() };
}

/** Every parameter and buffer of E by PyTorch state-dict name, in PyTorch's order. */
export function embeddingState(e: SNResNet18): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  for (const [name, m] of e.snLayers()) {
    if (m.bias) out.push([`${name}.bias`, m.bias]);
    out.push([`${name}.weight_orig`, m.weightOrig]);
    for (const [b, t] of m.buffers()) out.push([`${name}.${b}`, t]);
  }
  return out;
}

/** E's tensors by name (optionally prefixed), as written to a safetensors file. */
export function embeddingTensorData(e: SNResNet18, prefix = ''): [string, TensorData][] {
  return embeddingState(e).map(([n, t]) => [prefix + n, data(t)]);
}

export function embeddingMetadata(e: SNResNet18): Record<string, string> {
  return { format: EMBEDDING_FORMAT, config: embeddingConfigToJson(e.config) };
}

/** Write E (weights, power-iteration buffers, config) atomically. */
export async function saveEmbedding(e: SNResNet18, path: string, extraMetadata: Record<string, string> = {}): Promise<void> {
  await writeSafetensors(path, embeddingTensorData(e), { ...extraMetadata, ...embeddingMetadata(e) });
}

/**
 * Copy parameters and buffers into E by name. Missing and unexpected names and shape mismatches
 * are reported together. Frozen layers recompute their normalised weights.
 */
export function loadEmbeddingState(e: SNResNet18, state: Map<string, Raw>, source = 'state'): void {
  const own = new Map(embeddingState(e));
  const missing = [...own.keys()].filter((k) => !state.has(k));
  const unexpected = [...state.keys()].filter((k) => !own.has(k));
  const misshaped: string[] = [];
  for (const [k, t] of own) {
    const v = state.get(k);
    if (v && (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i]))) misshaped.push(`'${k}': expected [${t.shape.join(', ')}], got [${v.shape.join(', ')}]`);
  }
  const problems: string[] = [];
  const list = (xs: string[]) => (xs.length > 6 ? `${xs.slice(0, 6).join(', ')} and ${xs.length - 6} more` : xs.join(', '));
  if (misshaped.length) problems.push(`shape mismatch for ${list(misshaped)}`);
  if (missing.length) problems.push(`missing ${list(missing.map((k) => `'${k}'`))}`);
  if (unexpected.length) problems.push(`unexpected ${list(unexpected.map((k) => `'${k}'`))}`);
  if (problems.length) throw new RangeError(`SNResNet18 (${source}): ${problems.join('; ')}`);
  const params = new Map<string, Raw>();
  for (const [n] of e.namedParameters()) params.set(n, state.get(n)!);
  const frozen = e.frozen;
  e.loadStateDict(params);
  for (const [name, m] of e.snLayers()) {
    const dtype = m.weightOrig.dtype;
    const get = (b: string) => {
      const r = state.get(`${name}.${b}`)!;
      return tensor(r.data, [...r.shape], { dtype, device: m.weightOrig.device });
    };
    m.sn.setBuffers(get('weight_u'), get('weight_v'));
  }
  if (frozen) e.freeze();
}

/** The config a state dict implies (for files without our metadata). */
export function inferEmbeddingConfig(state: Map<string, Raw>, source = 'state'): EmbeddingConfig {
  const shape = (k: string) => {
    const r = state.get(k);
    if (!r) throw new RangeError(`${source}: no '${k}': not an SNResNet-18 state dict (expected PyTorch spectral_norm names such as conv1.weight_orig)`);
    return r.shape;
  };
  const widths = [1, 2, 3, 4].map((i) => shape(`layer${i}.0.conv1.weight_orig`)[0]!);
  return resolveEmbeddingConfig({
    widths,
    headHidden: shape('head.0.weight_orig')[0],
    headOut: shape('head.2.weight_orig')[0],
    convBias: state.has('conv1.bias'),
  }, source);
}

/** Options of {@link loadEmbedding}. */
export interface LoadEmbeddingOptions {
  dtype?: DType;
  /** Frozen for contrastive regularisation (default false). */
  freeze?: boolean;
}

/** E from a file written by saveEmbedding, a pretraining checkpoint, or PyTorch (names above). */
export function loadEmbedding(path: string, o: LoadEmbeddingOptions = {}): SNResNet18 {
  const file = readSafetensors(path);
  let tensors: Map<string, Raw> = file.tensors;
  const format = file.metadata.format;
  if (format === EMBEDDING_TRAIN_FORMAT) tensors = new Map([...tensors].filter(([k]) => k.startsWith('model.')).map(([k, v]) => [k.slice(6), v]));
  else if (format !== undefined && format !== EMBEDDING_FORMAT) {
    throw new RangeError(`loadEmbedding: ${path} is not an embedding network (__metadata__.format is ${JSON.stringify(format)}, expected "${EMBEDDING_FORMAT}")`);
  }
  let config: EmbeddingConfig;
  if (file.metadata.config !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(file.metadata.config);
    } catch {
      throw new RangeError(`loadEmbedding: ${path}: __metadata__.config is not valid JSON`);
    }
    config = resolveEmbeddingConfig(raw, `${path}: __metadata__.config`);
  } else {
    config = inferEmbeddingConfig(tensors, path);
  }
  const e = new SNResNet18(config, { dtype: o.dtype ?? 'float32', generator: new Generator(0) });
  try {
    loadEmbeddingState(e, tensors, path);
  } catch (err) {
    e.dispose();
    throw new RangeError(`loadEmbedding: ${(err as Error).message}`);
  }
  return o.freeze ? e.freeze() : e;
}

/**
 * A freshly initialised E (seeded like the model: same seed, same weights everywhere), its spectral
 * norms settled by `settle` power iterations (default 20; 0 leaves PyTorch's random u, v).
 */
export function createEmbedding(config: Partial<EmbeddingConfig> = {}, o: { seed?: number; dtype?: DType; settle?: number } = {}): SNResNet18 {
  return new SNResNet18(config, { generator: new Generator(o.seed ?? 0), dtype: o.dtype ?? 'float32' }).settle(o.settle ?? 20);
}
