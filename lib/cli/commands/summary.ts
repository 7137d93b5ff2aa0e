// mpfnet summary: parameters and multiply-accumulates of an MPF-Net, per part or per layer.
import type { Command } from 'commander';
import { EXIT, applyRuntimeOptions, withExamples, withRuntimeOptions, type CommandModule } from '../common.js';
import { MPFNet, loadModel } from '../../models/mpfnet/mpfnet.js';
import { formatSummary, summary } from '../../models/mpfnet/summary.js';
import { readSafetensorsHeader } from '../../io/safetensors.js';
import { resolveModelConfig } from '../../models/mpfnet/config.js';
import { Generator } from '../../random.js';
import { modelConfigFromFlags, withModelOptions, type ModelFlags } from './model-flags.js';

interface SummaryFlags extends ModelFlags {
  size: string;
  batch: string;
  json?: boolean;
  layers?: boolean;
  device?: string;
  threads?: string;
}

function parseSize(s: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:[x×,]\s*(\d+))?\s*$/.exec(s);
  if (!m) throw new RangeError(`--size must be N or HxW, got ${JSON.stringify(s)}`);
  const h = Number(m[1]);
  const w = m[2] === undefined ? h : Number(m[2]);
  if (h < 1 || w < 1) throw new RangeError(`--size must be positive, got ${s}`);
  return [h, w];
}

export const summaryCommand: CommandModule = {
  register(program: Command, setExit) {
    withExamples(withRuntimeOptions(withModelOptions(
      program
        .command('summary')
        .description('parameters and MACs of MPF-Net (from flags or a checkpoint) for an input size')
        .argument('[checkpoint]', 'a .safetensors checkpoint to describe instead of the flags')
        .option('--size <HxW>', 'input (LR) size', '224')
        .option('--batch <n>', 'batch size', '1')
        .option('--layers', 'one row per layer')
        .option('--json', 'print {params, macs, input, output} (with --layers: and the layers) as JSON'),
    )), ['mpfnet summary --scale 4 --json', 'mpfnet summary m.safetensors --size 128x96 --layers']).action((checkpoint: string | undefined, o: SummaryFlags) => {
      applyRuntimeOptions(o);
      const size = parseSize(o.size);
      const batch = Number(o.batch);
      if (!Number.isSafeInteger(batch) || batch < 1) throw new RangeError(`--batch must be a positive integer, got ${o.batch}`);
      let model: MPFNet;
      if (checkpoint) {
        // The header's config suffices unless the file is a training checkpoint: no need to read weights.
        const h = readSafetensorsHeader(checkpoint);
        model = h.metadata.config && h.metadata.format ? new MPFNet(resolveModelConfig(JSON.parse(h.metadata.config), `${checkpoint}: config`), { generator: new Generator(0) }) : loadModel(checkpoint);
      } else {
        model = new MPFNet(modelConfigFromFlags(o), { generator: new Generator(0) });
      }
      try {
        const s = summary(model, size, batch);
        if (o.json) {
          const out: Record<string, unknown> = { params: s.params, macs: s.macs, input: s.input, output: s.output };
          if (o.layers) out.layers = s.layers;
          console.log(JSON.stringify(out));
        } else {
          console.log(formatSummary(s, { layers: o.layers }));
        }
      } finally {
        model.dispose();
      }
      setExit(EXIT.ok);
    });
  },
};
