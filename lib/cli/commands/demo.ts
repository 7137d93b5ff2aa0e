// mpfnet demo: train a small ×2 model on the bundled photographs for a few minutes, then compare
// it with bicubic on a held-out photograph (PSNR / SSIM, and a side-by-side PNG). docs/cli.md, "mpfnet demo".
import type { Command } from 'commander';
import { runDemo, DEMO_FULL, DEMO_HELD_OUT } from '../../demo/run-demo.js';
import { EXIT, applyRuntimeOptions, formatDuration, withExamples, withRuntimeOptions, type CommandModule } from '../common.js';
import { ProgressPrinter } from './train.js';

interface DemoFlags {
  out: string;
  quick?: boolean;
  iters?: string;
  seed: string;
  maxMinutes: string;
  json?: boolean;
  device?: string;
  threads?: string;
}

export const demoCommand: CommandModule = {
  register(program: Command, setExit) {
    const cmd = program
      .command('demo')
      .description(`train a small ×2 MPF-Net on the bundled photos for a few minutes and compare it with bicubic on a held-out photo (${DEMO_HELD_OUT})`)
      .option('-o, --out <dir>', 'output folder: model.safetensors, comparison.png, training log', 'mpfnet-demo')
      .option('--quick', 'a tiny model for a few seconds (a smoke test; it does not beat bicubic)')
      .option('--iters <n>', `training iterations (default ${DEMO_FULL.iters})`)
      .option('--seed <n>', 'seed of initialisation, crops and batches', '1')
      .option('--max-minutes <m>', 'stop training after this long and evaluate the last checkpoint', '9')
      .option('--json', 'print the result as JSON (no progress output)');
    withExamples(
      withRuntimeOptions(cmd),
      [
        'npx mpfnet demo                      # about a minute on 2 CPU cores',
        'npx mpfnet demo --quick --json       # seconds; checks the installation',
        'mpfnet upscale photo.png -o photo_x2.png --model mpfnet-demo/model.safetensors',
      ],
      'Prints PSNR / SSIM (Y channel, border of 2 cropped) of bicubic and of the trained model on the held-out\n' +
        'photo, and writes mpfnet-demo/comparison.png: LR (enlarged) | bicubic | MPF-Net | ground truth.',
    )
      .action(async (o: DemoFlags) => {
        const device = applyRuntimeOptions(o);
        const iters = o.iters === undefined ? undefined : Number(o.iters);
        if (iters !== undefined && (!Number.isSafeInteger(iters) || iters < 1)) throw new RangeError(`--iters must be a positive integer, got ${o.iters}`);
        const seed = Number(o.seed);
        if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`--seed must be a non-negative integer, got ${o.seed}`);
        const maxMinutes = Number(o.maxMinutes);
        if (!Number.isFinite(maxMinutes) || maxMinutes <= 0) throw new RangeError(`--max-minutes must be a positive number, got ${o.maxMinutes}`);
        const printer = new ProgressPrinter(!!process.stdout.isTTY, 100);
        const controller = new AbortController();
        const onSignal = () => controller.abort();
        process.once('SIGINT', onSignal);
        try {
          const r = await runDemo({
            out: o.out,
            quick: !!o.quick,
            iters,
            seed,
            maxSeconds: maxMinutes * 60,
            device,
            signal: controller.signal,
            onTrainEvent: o.json ? undefined : (e) => printer.handle(e),
            onNote: o.json ? undefined : (s) => console.log(s),
          });
          if (o.json) {
            console.log(JSON.stringify(r));
          } else {
            const row = (name: string, p: number, s: number) => `  ${name.padEnd(9)} ${p.toFixed(2).padStart(7)} dB   ${s.toFixed(4)}`;
            const sign = (x: number, d: number) => (x >= 0 ? '+' : '') + x.toFixed(d);
            console.log(`\n${r.heldOut} ×${r.scale} (${r.size[0]}×${r.size[1]}; ${r.metric}):`);
            console.log(`  ${''.padEnd(9)} ${'PSNR'.padStart(10)}   SSIM`);
            console.log(row('bicubic', r.bicubic.psnr, r.bicubic.ssim));
            console.log(row('MPF-Net', r.ours.psnr, r.ours.ssim));
            console.log(`  ${'gain'.padEnd(9)} ${sign(r.gain.psnr, 2).padStart(7)} dB   ${sign(r.gain.ssim, 4)}`);
            console.log(`\ncomparison (LR | bicubic | MPF-Net | ground truth): ${r.comparison}`);
            console.log(`model: ${r.modelPath}  (try: mpfnet upscale photo.png -o photo_x2.png --model ${r.modelPath})`);
            console.log(`${r.iterations} iterations in ${formatDuration(r.trainSeconds)}${r.stoppedEarly ? ' (stopped by --max-minutes)' : ''}; total ${formatDuration(r.seconds)}`);
          }
          setExit(EXIT.ok);
        } catch (e) {
          if (controller.signal.aborted) {
            process.stderr.write('mpfnet demo: interrupted\n');
            setExit(EXIT.aborted);
            return;
          }
          throw e;
        } finally {
          process.off('SIGINT', onSignal);
        }
      });
  },
};
