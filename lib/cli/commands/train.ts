// mpfnet train --config train.json [overrides]: train (or resume) MPF-Net. Progress: a one-line
// bar with it/s and ETA on a terminal, plain log lines otherwise (CI logs, pipes).
import type { Command } from 'commander';
import { EXIT, applyRuntimeOptions, formatDuration, numberFlag, withExamples, withRuntimeOptions, type CommandModule } from '../common.js';
import { loadTrainConfig, type TrainOverrides } from '../../train/config.js';
import { train, type TrainEvent } from '../../train/trainer.js';
import { processGroup } from '../../distributed/process-group.js';

interface TrainFlags {
  config: string;
  iters?: string;
  batch?: string;
  patch?: string;
  lr?: string;
  schedule?: string;
  seed?: string;
  init?: string;
  out?: string;
  resume?: string | boolean;
  quiet?: boolean;
  json?: boolean;
  device?: string;
  threads?: string;
}

/** Renders TrainEvents: a redrawn bar on a TTY, a line every `every` iterations otherwise. */
export class ProgressPrinter {
  #lastLine = 0;
  #barShown = false;
  constructor(
    readonly tty: boolean,
    readonly every: number,
    readonly write: (s: string) => void = (s) => process.stdout.write(s),
  ) {}

  #clearBar(): void {
    if (this.#barShown) {
      this.write('\r\x1b[2K');
      this.#barShown = false;
    }
  }

  #say(line: string): void {
    this.#clearBar();
    this.write(line + '\n');
  }

  handle(e: TrainEvent): void {
    switch (e.type) {
      case 'start':
        this.#say(e.resumedFrom ? `resuming from ${e.resumedFrom} at iteration ${e.iteration}/${e.total}` : `training ${e.total} iterations`);
        break;
      case 'stage':
        this.#say(`stage ${e.index + 1} '${e.stage}' from iteration ${e.iteration}`);
        break;
      case 'iteration': {
        const stats = `${e.itPerSec.toFixed(2)} it/s  ETA ${formatDuration(e.etaSeconds)}  loss ${e.loss.toFixed(5)}  lr ${e.lr.toExponential(2)}`;
        if (this.tty) {
          const width = 24;
          const done = Math.round((width * e.iteration) / e.total);
          const bar = '█'.repeat(done) + '░'.repeat(width - done);
          const pct = ((100 * e.iteration) / e.total).toFixed(1).padStart(5);
          this.write(`\r\x1b[2K${bar} ${pct}% ${e.iteration}/${e.total}  ${stats}`);
          this.#barShown = true;
        } else if (e.iteration - this.#lastLine >= this.every || e.iteration === e.total) {
          this.#lastLine = e.iteration;
          this.#say(`iter ${e.iteration}/${e.total}  ${e.stage}  ${stats}`);
        }
        break;
      }
      case 'validation':
        this.#say(`iter ${e.iteration}: validation PSNR ${e.psnr.toFixed(3)} dB (${e.weights} weights, ${e.seconds.toFixed(1)} s)`);
        break;
      case 'checkpoint':
        if (!this.tty) this.#say(`iter ${e.iteration}: checkpoint ${e.path}`);
        break;
      case 'warning':
        this.#clearBar();
        process.stderr.write(`warning: ${e.message}\n`);
        break;
      case 'done':
        this.#say(e.aborted ? `stopped at iteration ${e.iteration}/${e.total} (checkpoint written; continue with --resume)` : `done: ${e.iteration} iterations in ${formatDuration(e.seconds)}`);
        break;
    }
  }
}

export const trainCommand: CommandModule = {
  register(program: Command, setExit) {
    withExamples(withRuntimeOptions(
      program
        .command('train')
        .description('train MPF-Net from a JSON config (docs/training.md); checkpoints, log and final weights go to the config\'s out folder')
        .requiredOption('-c, --config <file>', 'training config (JSON)')
        .option('--iters <n>', 'iterations of every stage')
        .option('--batch <n>', 'batch size')
        .option('--patch <n>', 'LR patch size (HR = scale × patch)')
        .option('--lr <lr>', 'learning rate of every stage')
        .option('--schedule <type>', 'lr schedule of every stage: cosine, restarts or constant')
        .option('--seed <n>', 'seed of initialisation, data order and crops')
        .option('--init <file>', 'start from these weights (a model or training checkpoint)')
        .option('-o, --out <dir>', 'output folder')
        .option('--resume [checkpoint]', 'continue from the latest checkpoint in the output folder (or the given one)')
        .option('-q, --quiet', 'no progress output')
        .option('--json', 'print the result {iteration, aborted, seconds, validation, modelPath, emaPath} as JSON (no progress output)'),
    ), ['mpfnet train -c train.json', 'mpfnet train -c train.json --iters 1000 --batch 16 --out runs/try1', 'mpfnet train -c train.json --resume --threads 2']).action(async (o: TrainFlags) => {
      applyRuntimeOptions(o);
      const overrides: TrainOverrides = {
        iters: numberFlag(o.iters, '--iters', true),
        batch: numberFlag(o.batch, '--batch', true),
        patch: numberFlag(o.patch, '--patch', true),
        lr: numberFlag(o.lr, '--lr', false),
        schedule: o.schedule,
        seed: numberFlag(o.seed, '--seed', true),
        init: o.init,
        out: o.out,
      };
      for (const k of Object.keys(overrides) as (keyof TrainOverrides)[]) if (overrides[k] === undefined) delete overrides[k];
      // --init and --out are relative to the working directory, not to the config file.
      if (overrides.init) overrides.init = (await import('node:path')).resolve(overrides.init);
      if (overrides.out) overrides.out = (await import('node:path')).resolve(overrides.out);
      const config = loadTrainConfig(o.config, overrides);
      const printer = new ProgressPrinter(!!process.stdout.isTTY, Math.max(config.log.every, 1));
      const quiet = o.quiet || o.json || !processGroup().isRoot; // distributed: rank 0 reports
      const controller = new AbortController();
      let interrupts = 0;
      // Distributed: every rank stops after the same iteration (the stop request rides
      // on the gradient all-reduce); mpirun forwards SIGUSR1 to all ranks for that. A second
      // signal ends the whole job at once (MPI_Abort) rather than leaving peers waiting.
      const group = processGroup();
      const signals: NodeJS.Signals[] = group.size > 1 ? ['SIGINT', 'SIGTERM', 'SIGUSR1'] : ['SIGINT', 'SIGTERM'];
      const onSignal = () => {
        interrupts++;
        if (interrupts > 1) {
          if (group.size > 1) group.abort(`mpfnet: rank ${group.rank} of ${group.size}: stopped by a second signal`, EXIT.aborted);
          process.exit(EXIT.aborted);
        }
        process.stderr.write('\nstopping after this iteration (press Ctrl-C again to quit now)\n');
        controller.abort();
      };
      for (const s of signals) process.on(s, onSignal);
      try {
        const r = await train(config, {
          resume: o.resume === true ? true : typeof o.resume === 'string' ? o.resume : false,
          signal: controller.signal,
          onProgress: quiet ? undefined : (e) => printer.handle(e),
        });
        if (!processGroup().isRoot) {
          setExit(r.aborted ? EXIT.aborted : EXIT.ok);
          return;
        }
        if (o.json) console.log(JSON.stringify(r));
        else if (!o.quiet && r.modelPath) console.log(`weights: ${r.modelPath}${r.emaPath ? `, EMA: ${r.emaPath}` : ''}`);
        setExit(r.aborted ? EXIT.aborted : EXIT.ok);
      } finally {
        for (const s of signals) process.off(s, onSignal);
      }
    });
  },
};
