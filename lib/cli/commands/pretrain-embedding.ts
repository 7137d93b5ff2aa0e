// mpfnet pretrain-embedding --config pretrain.json: SimCLR pretraining of the contrastive
// regulariser's embedding network E (lib/train/pretrain-embedding.ts). Checkpointed and resumable;
// Ctrl-C stops after the current iteration with a checkpoint (exit 130).
import type { Command } from 'commander';
import { EXIT, applyRuntimeOptions, formatDuration, numberFlag, withRuntimeOptions, type CommandModule } from '../common.js';
import { loadPretrainConfig, pretrainEmbedding, type PretrainEvent } from '../../train/pretrain-embedding.js';

interface Flags {
  config: string;
  iters?: string;
  batch?: string;
  lr?: string;
  seed?: string;
  out?: string;
  resume?: string | boolean;
  quiet?: boolean;
  device?: string;
  threads?: string;
}

function printer(every: number): (e: PretrainEvent) => void {
  let last = 0;
  return (e) => {
    if (e.type === 'start') console.log(e.resumedFrom ? `resuming from ${e.resumedFrom} at iteration ${e.iteration}/${e.total}` : `pretraining E: ${e.total} iterations on ${e.images} images`);
    else if (e.type === 'iteration' && (e.iteration - last >= every || e.iteration === e.total)) {
      last = e.iteration;
      console.log(`iter ${e.iteration}/${e.total}  NT-Xent ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  ${formatDuration(e.seconds)}`);
    } else if (e.type === 'checkpoint') console.log(`iter ${e.iteration}: checkpoint ${e.path}`);
    else if (e.type === 'done') console.log(e.aborted ? `stopped at iteration ${e.iteration}/${e.total} (continue with --resume)` : `done: ${e.iteration} iterations; embedding: ${e.path}`);
  };
}

export const pretrainEmbeddingCommand: CommandModule = {
  register(program: Command, setExit) {
    withRuntimeOptions(
      program
        .command('pretrain-embedding')
        .description('pretrain the embedding network E of contrastive regularisation (SimCLR on HR patches, docs/contrastive-regularization.md)')
        .requiredOption('-c, --config <file>', 'pretraining config (JSON)')
        .option('--iters <n>', 'iterations')
        .option('--batch <n>', 'patches per batch (two views each)')
        .option('--lr <lr>', 'learning rate')
        .option('--seed <n>', 'seed of initialisation, data order and augmentation')
        .option('-o, --out <dir>', 'output folder')
        .option('--resume [checkpoint]', 'continue from the latest checkpoint in the output folder (or the given one)')
        .option('-q, --quiet', 'no progress output'),
    ).action(async (o: Flags) => {
      applyRuntimeOptions(o);
      const config = loadPretrainConfig(o.config, {
        iters: numberFlag(o.iters, '--iters', true),
        batch: numberFlag(o.batch, '--batch', true),
        lr: numberFlag(o.lr, '--lr', false),
        seed: numberFlag(o.seed, '--seed', true),
        out: o.out === undefined ? undefined : (await import('node:path')).resolve(o.out),
      });
      const controller = new AbortController();
      let interrupts = 0;
      const onSignal = () => {
        if (++interrupts > 1) process.exit(EXIT.aborted);
        process.stderr.write('\nstopping after this iteration (press Ctrl-C again to quit now)\n');
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const r = await pretrainEmbedding(config, {
          resume: o.resume === true ? true : typeof o.resume === 'string' ? o.resume : false,
          signal: controller.signal,
          onProgress: o.quiet ? undefined : printer(config.log.every),
        });
        setExit(r.aborted ? EXIT.aborted : EXIT.ok);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
  },
};
