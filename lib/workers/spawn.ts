// Starting mpfnet's worker threads (the data loader's pool and the upscaler's model worker).
//
// Workers run compiled JavaScript: next to the module that starts them in a package
// (dist/lib/data/loader-worker.js, dist/lib/infer/upscale-worker.js), or, when that module itself
// runs from TypeScript sources (vitest, a checkout without dist/), through ts-worker-bootstrap.mjs,
// which transpiles the sources on the fly and loads the entry named in workerData.entry.
//
// Every worker's workerData carries `port` (its MessagePort to the caller) and `signal` (a
// SharedArrayBuffer whose Int32 slot 0 counts messages), so the bootstrap can report a failed start
// the way the workers report their own errors.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type MessagePort, type WorkerOptions } from 'node:worker_threads';

/** What every mpfnet worker receives in workerData, besides its own fields. */
export interface BaseWorkerData {
  /** The TypeScript entry, when started through the source bootstrap. */
  entry?: string;
  /** Int32 slot 0: a message counter the caller may wait on (Atomics). */
  signal: SharedArrayBuffer;
  /** The worker's end of its channel to the caller. */
  port: MessagePort;
}

/**
 * The script to start for the worker module `name` (e.g. 'loader-worker') that sits next to the
 * module at `from` (its import.meta.url), and the TypeScript entry when running from sources.
 */
export function workerScript(from: string, name: string): { url: URL; entry?: string } {
  if (from.endsWith('.ts')) return { url: new URL('ts-worker-bootstrap.mjs', import.meta.url), entry: new URL(`./${name}.ts`, from).href };
  const url = new URL(`./${name}.js`, from);
  if (!existsSync(fileURLToPath(url))) throw new Error(`mpfnet: the worker script ${fileURLToPath(url)} is missing; rebuild the package (npm run build:ts)`);
  return { url };
}

/** Options that take the next argument as their value (when not written `--opt=value`). */
const TAKES_VALUE = new Set(['-e', '--eval', '-p', '--print', '--input-type', '-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions']);

/** Options a worker needs to load modules the way the main thread does, and to report like it. */
function workerNeeds(flag: string): boolean {
  return (
    ['-r', '--require', '--import', '--loader', '-C', '--conditions', '--enable-source-maps', '--preserve-symlinks', '--no-warnings', '--no-deprecation', '--trace-warnings', '--trace-uncaught', '--throw-deprecation', '--pending-deprecation'].includes(flag) ||
    // --experimental-loader, --experimental-strip-types, --no-experimental-fetch, ...
    /^--(no-)?experimental-/.test(flag)
  );
}

/**
 * The parent's Node options a worker should get: module loaders (`--import`, `--loader`, `-r`,
 * tsx's hooks), `--conditions`, `--experimental-*` and diagnostics flags. Everything else is left
 * out: options for the main script only (`--input-type`, `-e`/`--eval`, `-p`, `-i`) make a worker
 * fail to start, V8 and process options (`--max-old-space-size`, `--title`, `--inspect`) are
 * refused by workers or clash with the main thread.
 */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = flag !== arg;
    // execArgv holds Node's options only, so an argument that is not an option is the previous one's value.
    const value = !inline && i + 1 < argv.length && (TAKES_VALUE.has(flag) || !argv[i + 1]!.startsWith('-')) ? argv[++i] : undefined;
    if (!workerNeeds(flag)) continue;
    out.push(arg);
    if (value !== undefined) out.push(value);
  }
  return out;
}

/** Start the worker module `name` next to `from` (see workerScript) with the options it needs. */
export function startWorker<D extends BaseWorkerData>(from: string, name: string, data: Omit<D, 'entry'>, o: Omit<WorkerOptions, 'workerData' | 'execArgv'> = {}): Worker {
  const script = workerScript(from, name);
  return new Worker(script.url, { ...o, workerData: { ...data, entry: script.entry }, execArgv: workerExecArgv() });
}
