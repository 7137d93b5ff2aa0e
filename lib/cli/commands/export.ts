// mpfnet export: an MPF-Net checkpoint as an ONNX model (lib/export/onnx/, docs/export-onnx.md).
import type { Command } from 'commander';
import { EXIT, withExamples, type CommandModule } from '../common.js';
import { exportOnnx } from '../../export/onnx/export.js';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET } from '../../export/onnx/metadata.js';

interface ExportFlags {
  out: string;
  opset: string;
  fp16?: boolean;
  weights?: string;
  static?: string;
  clamp: boolean;
  json?: boolean;
}

/** "HxW" (or "NxHxW") -> {height, width, batch}. */
export function parseStaticShape(s: string): { height: number; width: number; batch: number } {
  const m = /^\s*(?:(\d+)\s*[x×]\s*)?(\d+)\s*[x×]\s*(\d+)\s*$/.exec(s);
  if (!m) throw new RangeError(`--static must be HxW (or NxHxW), got ${JSON.stringify(s)}`);
  const [batch, height, width] = [Number(m[1] ?? 1), Number(m[2]), Number(m[3])];
  if (batch < 1 || height < 1 || width < 1) throw new RangeError(`--static sizes must be positive, got ${JSON.stringify(s)}`);
  return { height, width, batch };
}

export const exportCommand: CommandModule = {
  register(program: Command, setExit) {
    withExamples(
      program
        .command('export')
        .description('write a checkpoint as an ONNX model (dynamic N, H, W; input "input", output "output", RGB in [0, 1], NCHW)')
        .argument('<checkpoint>', 'a .safetensors model (mpfnet init / train output)')
        .requiredOption('-o, --out <file>', 'ONNX file to write (.onnx)')
        .option('--opset <n>', `ONNX opset, ${MIN_OPSET} to ${MAX_OPSET}`, String(DEFAULT_OPSET))
        .option('--fp16', 'store weights as float16 (Cast nodes; the interface stays float32)')
        .option('--weights <which>', 'for training checkpoints: model or ema')
        .option('--static <HxW>', 'fix the input size (batch 1, or NxHxW) for runtimes that want static shapes')
        .option('--no-clamp', 'leave the output unclamped (no final Clip to [0, 1])')
        .option('--json', 'print what was written as JSON'),
      ['mpfnet export m.safetensors -o m.onnx', 'mpfnet export run/checkpoints/iter-00001000.safetensors --weights ema --fp16 -o m16.onnx', 'mpfnet export m.safetensors --opset 13 --static 256x256 -o m256.onnx'],
    ).action(async (checkpoint: string, o: ExportFlags) => {
      const opset = Number(o.opset);
      if (!Number.isSafeInteger(opset)) throw new RangeError(`--opset must be an integer, got ${JSON.stringify(o.opset)}`);
      if (o.weights !== undefined && o.weights !== 'model' && o.weights !== 'ema') throw new RangeError(`--weights must be model or ema, got ${JSON.stringify(o.weights)}`);
      const r = await exportOnnx(checkpoint, o.out, {
        opset,
        fp16: o.fp16 ?? false,
        weights: o.weights,
        static: o.static === undefined ? undefined : parseStaticShape(o.static),
        clamp: o.clamp,
      });
      if (o.json) console.log(JSON.stringify(r));
      else console.log(`wrote ${r.path}: ${(r.bytes / 1e6).toFixed(2)} MB, opset ${r.opset}, ${r.nodes} nodes, ${r.parameters.toLocaleString('en-US')} parameters, input ${r.inputName} [${r.inputShape.join(', ')}] -> output ${r.outputName} [${r.outputShape.join(', ')}]`);
      setExit(EXIT.ok);
    });
  },
};
