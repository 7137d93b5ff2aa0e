// What a runtime needs to know to feed an exported MPF-Net, written into the ONNX model's
// metadata_props (ModelProto key/value strings, shown by Netron and readable from
// onnxruntime's session metadata), and the opset -> IR version table.
import type { MPFNetConfig } from '../../models/mpfnet/config.js';
import { configToJson } from '../../models/mpfnet/config.js';

/** Name of the exported graph's input. */
export const INPUT_NAME = 'input';
/** Name of the exported graph's output. */
export const OUTPUT_NAME = 'output';

/** The opsets we can write: 11 brought DepthToSpace mode CRD and Clip with tensor bounds; 22 is the newest we test. */
export const MIN_OPSET = 11;
/** The newest opset written and tested (ONNX Runtime 1.30 runs it). */
export const MAX_OPSET = 22;
/** The default opset: supported by every maintained runtime (ORT >= 1.13, TensorRT 8.6, OpenVINO). */
export const DEFAULT_OPSET = 17;

/** The oldest IR version whose ONNX release defined `opset`, so older runtimes load the file. */
export function irVersionFor(opset: number): number {
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

export interface MetadataInput {
  config: MPFNetConfig;
  fp16: boolean;
  clamp: boolean;
  weights: string;
  packageVersion: string;
}

/** metadata_props entries (all strings). */
export function onnxMetadata(m: MetadataInput): Record<string, string> {
  return {
    'mpfnet.format': 'mpfnet-onnx',
    'mpfnet.version': m.packageVersion,
    'mpfnet.config': configToJson(m.config),
    'mpfnet.scale': String(m.config.scale),
    'mpfnet.weights': m.weights,
    'mpfnet.input': INPUT_NAME,
    'mpfnet.output': OUTPUT_NAME,
    'mpfnet.layout': 'NCHW',
    'mpfnet.color': 'RGB',
    'mpfnet.input_range': '[0, 1]',
    'mpfnet.output_range': m.clamp ? '[0, 1] (clamped)' : 'about [0, 1] (not clamped)',
    'mpfnet.weights_dtype': m.fp16 ? 'float16 (Cast to float32 in the graph)' : 'float32',
    'mpfnet.interface_dtype': 'float32',
  };
}
