// mpfnet init: write a freshly initialised (seeded) MPF-Net checkpoint.
import type { Command } from 'commander';
import { EXIT, applyRuntimeOptions, withExamples, withRuntimeOptions, type CommandModule } from '../common.js';
import { createModel } from '../../models/mpfnet/mpfnet.js';
import { modelConfigFromFlags, withModelOptions, type ModelFlags } from './model-flags.js';

interface InitFlags extends ModelFlags {
  seed: string;
  out: string;
  json?: boolean;
  device?: string;
  threads?: string;
}

export const initCommand: CommandModule = {
  register(program: Command, setExit) {
    withExamples(withRuntimeOptions(withModelOptions(
      program
        .command('init')
        .description('write a seeded, freshly initialised MPF-Net as a safetensors checkpoint (the same weights on every machine)')
        .requiredOption('-o, --out <file>', 'checkpoint to write (.safetensors)')
        .option('--seed <n>', 'initialisation seed', '0')
        .option('--json', 'print {path, params, config} as JSON'),
    )), ['mpfnet init --scale 4 --seed 1 -o m.safetensors', 'mpfnet init --scale 2 --channels 16 --n-cpb 2 -o small.safetensors --json']).action(async (o: InitFlags) => {
      applyRuntimeOptions(o);
      const seed = Number(o.seed);
      if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`--seed must be a non-negative integer, got ${o.seed}`);
      const config = modelConfigFromFlags(o);
      const model = createModel(config, { seed });
      try {
        await model.save(o.out, { seed: String(seed) });
        const params = model.numParameters();
        if (o.json) console.log(JSON.stringify({ path: o.out, params, seed, config: model.config }));
        else console.log(`wrote ${o.out}: MPF-Net ×${model.scale}, ${params.toLocaleString('en-US')} parameters, seed ${seed}`);
      } finally {
        model.dispose();
      }
      setExit(EXIT.ok);
    });
  },
};
