// Run the mpfnet CLI as a child process from the current sources: compiled once per test process
// with tsc into build-test-cli-<pid>/ inside the repository (so node_modules and package.json
// resolve as in an installed package), removed again by cleanupCli(). The child loads the same
// addon as the test process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const outDir = join(repoRoot, `build-test-cli-${process.pid}`);
let built: string | null = null;

/** The addon this process uses, for the child's MPFNET_ADDON. */
export function addonPath(): string {
  if (process.env.MPFNET_ADDON) return process.env.MPFNET_ADDON;
  const require = createRequire(import.meta.url);
  return (require('node-gyp-build') as { path(dir: string): string }).path(repoRoot);
}

/** Compile lib/ and bindings/ (type errors elsewhere do not stop the emit); returns the runner script. */
export function buildCli(): string {
  if (built) return built;
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(repoRoot, 'tsconfig.json'), '--outDir', outDir, '--declaration', 'false', '--sourceMap', 'false'], { encoding: 'utf8' });
  const main = join(outDir, 'lib', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`buildCli: tsc produced no ${main}:\n${r.stdout}\n${r.stderr}`);
  // A runner file rather than `node -e`: worker threads inherit execArgv, and an inherited -e
  // would replace the data workers' own script.
  const runner = join(outDir, 'run-cli.mjs');
  writeFileSync(runner, "import { main } from './lib/cli/main.js';\nprocess.exitCode = await main(process.argv.slice(2));\n");
  built = runner;
  return runner;
}

export function cleanupCli(): void {
  rmSync(outDir, { recursive: true, force: true });
  built = null;
}

export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, MPFNET_ADDON: addonPath(), ...extra };
}

/** Run the CLI to completion. */
export function runCli(args: string[], o: { cwd?: string; env?: Record<string, string>; timeout?: number } = {}) {
  const r = spawnSync(process.execPath, [buildCli(), ...args], { cwd: o.cwd ?? repoRoot, env: cliEnv(o.env), encoding: 'utf8', timeout: o.timeout ?? 300_000, maxBuffer: 64 << 20 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Start the CLI without waiting. */
export function spawnCli(args: string[], o: { cwd?: string; env?: Record<string, string> } = {}): ChildProcess {
  return spawn(process.execPath, [buildCli(), ...args], { cwd: o.cwd ?? repoRoot, env: cliEnv(o.env), stdio: ['ignore', 'pipe', 'pipe'] });
}
