// The mpfnet command line. Each command lives in lib/cli/commands/<name>.ts and registers itself
// on the commander program; shared flags and exit codes are in lib/cli/common.ts.
import { Command, CommanderError } from 'commander';
import { EXIT } from './common.js';
import { commands } from './commands/index.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('mpfnet')
    .description('MPF-Net real-world image super-resolution: train, evaluate and upscale from Node.js')
    .version(await version())
    .exitOverride()
    .showHelpAfterError()
    .addHelpText('after', `\nExit codes: ${EXIT.ok} ok, ${EXIT.failure} some work failed, ${EXIT.usage} bad usage or input, ${EXIT.aborted} interrupted.`);
  let code: number = EXIT.ok;
  for (const c of commands) c.register(program, (rc) => (code = rc));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    console.error(`mpfnet: ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof TypeError || e instanceof RangeError ? EXIT.usage : EXIT.failure;
  }
  return code;
}

async function version(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  const path = await import('node:path');
  const bindings = await import('../../bindings/index.js');
  return (JSON.parse(readFileSync(path.join(bindings.packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
