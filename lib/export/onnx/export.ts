// exportOnnx: an MPF-Net (in memory, or a checkpoint file) as an ONNX model file. The graph is
// built by emit-mpfnet.ts, encoded by the official schema's protobuf encoder and written
// atomically (a failed export leaves no partial .onnx behind).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../bindings/index.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { readSafetensorsHeader } from '../../io/safetensors.js';
import { MPFNet, loadModel } from '../../models/mpfnet/mpfnet.js';
import { emitMPFNet } from './emit-mpfnet.js';
import { GraphBuilder } from './graph-builder.js';
import { DEFAULT_OPSET, INPUT_NAME, MAX_OPSET, MIN_OPSET, OUTPUT_NAME, irVersionFor, onnxMetadata } from './metadata.js';
import { DataType, onnx, type OnnxTypes } from './proto.js';

/** Options of exportOnnx / `mpfnet export`. */
export interface ExportOnnxOptions {
  /** ONNX opset, 11 to 22 (default 17). */
  opset?: number;
  /** Store weights as float16 with Cast nodes; the interface stays float32 (default false). */
  fp16?: boolean;
  /** From a training checkpoint: its trained ('model') or averaged ('ema') weights. Required for those files. */
  weights?: 'model' | 'ema';
  /** Fix batch, height and width (batch defaults to 1) instead of dynamic N, H, W. */
  static?: { height: number; width: number; batch?: number };
  /** End the graph with Clip to [0, 1], as images want (default true). */
  clamp?: boolean;
}

/** What exportOnnx wrote. */
export interface ExportOnnxResult {
  /** The file written. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** The opset imported (default domain). */
  opset: number;
  /** The model's IR version (the oldest that defines `opset`). */
  irVersion: number;
  /** Graph nodes. */
  nodes: number;
  /** Learned values written (weights and biases). */
  parameters: number;
  /** Node counts by operator type. */
  ops: Record<string, number>;
  /** The graph input's name ("input"). */
  inputName: string;
  /** The graph output's name ("output"). */
  outputName: string;
  /** The input and output shapes; strings are dynamic dimensions. */
  inputShape: (number | string)[];
  outputShape: (number | string)[];
}

/** Validate options; throws RangeError/TypeError naming the bad value. */
function checkOptions(o: ExportOnnxOptions): Required<Pick<ExportOnnxOptions, 'opset' | 'fp16' | 'clamp'>> {
  const opset = o.opset ?? DEFAULT_OPSET;
  if (!Number.isSafeInteger(opset)) throw new TypeError(`exportOnnx: opset must be an integer, got ${JSON.stringify(o.opset)}`);
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new RangeError(`exportOnnx: opset ${opset} cannot be written: MPF-Net needs opset >= ${MIN_OPSET} (DepthToSpace mode CRD) and this exporter is tested up to ${MAX_OPSET}`);
  }
  if (o.weights !== undefined && o.weights !== 'model' && o.weights !== 'ema') throw new RangeError(`exportOnnx: weights must be 'model' or 'ema', got ${JSON.stringify(o.weights)}`);
  if (o.static) {
    const { height, width, batch = 1 } = o.static;
    for (const [k, v] of Object.entries({ height, width, batch })) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`exportOnnx: static.${k} must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  return { opset, fp16: o.fp16 ?? false, clamp: o.clamp ?? true };
}

/** The model of `source`: the MPFNet itself, or loaded from a checkpoint file (checked first). */
function resolveModel(source: MPFNet | string, weights: 'model' | 'ema' | undefined): { model: MPFNet; owned: boolean; weights: string } {
  if (source instanceof MPFNet) return { model: source, owned: false, weights: 'in-memory model' };
  if (typeof source !== 'string') throw new TypeError(`exportOnnx: expected an MPFNet or a checkpoint path, got ${typeof source}`);
  const { metadata } = readSafetensorsHeader(source);
  if (metadata.format === 'mpfnet-train' && weights === undefined) {
    throw new RangeError(`exportOnnx: ${source} is a training checkpoint (model and EMA weights); choose one with --weights model or --weights ema`);
  }
  return { model: loadModel(source, { weights }), owned: true, weights: `${source}${weights ? ` (${weights})` : ''}` };
}

function valueInfo(name: string, shape: (number | string)[]): OnnxTypes.IValueInfoProto {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim } } } };
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Encode `model` as an ONNX ModelProto (bytes) and describe it. */
export function encodeOnnx(model: MPFNet, o: ExportOnnxOptions = {}, weightsLabel = 'in-memory model'): { bytes: Uint8Array; info: Omit<ExportOnnxResult, 'path' | 'bytes'> } {
  const { opset, fp16, clamp } = checkOptions(o);
  const s = model.scale;
  const st = o.static;
  const inputShape: (number | string)[] = st ? [st.batch ?? 1, 3, st.height, st.width] : ['N', 3, 'H', 'W'];
  const outputShape: (number | string)[] = st ? [st.batch ?? 1, 3, st.height * s, st.width * s] : ['N', 3, `H*${s}`, `W*${s}`];
  const g = new GraphBuilder({ fp16 });
  const x = g.reserve(INPUT_NAME);
  let y = emitMPFNet(g, model, x);
  if (clamp) y = g.node('Clip', [y, g.constant('clip.min', [], new Float32Array([0])), g.constant('clip.max', [], new Float32Array([1]))], {}, 'clamp');
  g.renameOutput(y, OUTPUT_NAME);
  const meta = onnxMetadata({ config: model.config, fp16, clamp, weights: weightsLabel, packageVersion: packageVersion() });
  const irVersion = irVersionFor(opset);
  const proto = onnx.ModelProto.create({
    irVersion,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'mpfnet',
    producerVersion: meta['mpfnet.version'],
    docString: `MPF-Net ×${s} super-resolution: ${INPUT_NAME} (N, 3, H, W) RGB in [0, 1] -> ${OUTPUT_NAME} (N, 3, ${s}H, ${s}W)`,
    graph: {
      name: 'mpfnet',
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(INPUT_NAME, inputShape)],
      output: [valueInfo(OUTPUT_NAME, outputShape)],
    },
    metadataProps: Object.entries(meta).map(([key, value]) => ({ key, value })),
  });
  const bytes = onnx.ModelProto.encode(proto).finish();
  const ops: Record<string, number> = {};
  for (const n of g.nodes) ops[n.opType!] = (ops[n.opType!] ?? 0) + 1;
  return { bytes, info: { opset, irVersion, nodes: g.nodes.length, parameters: g.parameters, ops, inputName: INPUT_NAME, outputName: OUTPUT_NAME, inputShape, outputShape } };
}

/**
 * Export an MPF-Net to an ONNX file: dynamic batch, height and width (or fixed by `static`),
 * input "input" and output "output", float32 RGB in [0, 1], NCHW. `source` is a model or the path
 * of a checkpoint (`mpfnet init`, `model.save`, or a training checkpoint with `weights`).
 * The file is written atomically: on any error no partial output is left.
 */
export async function exportOnnx(source: MPFNet | string, output: string, o: ExportOnnxOptions = {}): Promise<ExportOnnxResult> {
  if (typeof output !== 'string' || !output) throw new TypeError(`exportOnnx: output must be a file path, got ${JSON.stringify(output)}`);
  checkOptions(o);
  const { model, owned, weights } = resolveModel(source, o.weights);
  try {
    const { bytes, info } = encodeOnnx(model, o, weights);
    try {
      await writeFileAtomic(output, bytes);
    } catch (e) {
      throw new RangeError(`exportOnnx: cannot write ${output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return { path: output, bytes: bytes.length, ...info };
  } finally {
    if (owned) model.dispose();
  }
}
