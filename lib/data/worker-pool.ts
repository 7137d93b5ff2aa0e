// Worker threads that compute dataset samples (decode, crop, degrade) off the training thread.
//
// Each worker rebuilds the dataset from a plan (a module, an exported class and structured-clonable
// arguments) and answers jobs {index, generator state} with samples. Results come back through a
// MessagePort that the main thread reads with receiveMessageOnPort, and every message bumps a
// shared counter the main thread can block on (Atomics.wait): so a *synchronous* next() can wait
// for workers while they keep running, without turning the event loop. The samples' buffers are
// transferred, not copied.
//
// Lifetime: a worker holds the process open only while it has jobs in flight (it reports 'idle'
// when it runs dry), and close() lets each worker finish what it started before it exits. Never
// terminate a worker in the middle of a job: sharp's asynchronous work completing on a torn-down
// thread aborts the whole process.
//
// Workers run compiled JavaScript: next to this file in a package (dist/lib/data/loader-worker.js),
// or, when this module itself runs from TypeScript sources (vitest), through a bootstrap that
// transpiles the sources with the project's TypeScript (lib/data/ts-worker-bootstrap.mjs).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { ImageError, type ImageErrorCode } from '../io/image.js';
import { ConfigError } from '../util/validate.js';
import type { Sample } from './dataset.js';

/** How a worker rebuilds a dataset: `(await import(module))[exportName].fromPlan(...args)`. */
export interface WorkerPlan {
  module: string;
  exportName: string;
  args: unknown[];
}

/** A dataset whose samples can be computed on worker threads. */
export interface WorkerCapable {
  workerPlan(): WorkerPlan;
  /** Receives the warnings (bad files skipped) that replicas on workers report. */
  warn?(file: string, message: string): void;
  /** Whether copies cache decoded images (then each index should stay on one worker). */
  readonly cachesImages?: boolean;
}

export function isWorkerCapable(d: unknown): d is WorkerCapable {
  return typeof (d as WorkerCapable | null)?.workerPlan === 'function';
}

/** What crosses the thread boundary for an error. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  path?: string;
  code?: string;
  file?: string;
}

export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const x = e as Error & { path?: unknown; code?: unknown; file?: unknown };
  return {
    name: e.name,
    message: e.message,
    stack: e.stack,
    path: typeof x.path === 'string' ? x.path : undefined,
    code: typeof x.code === 'string' ? x.code : undefined,
    file: typeof x.file === 'string' ? x.file : undefined,
  };
}

/** A file a dataset cannot use: missing partner, sizes that do not pair, too small for the patch. */
export class DatasetFileError extends RangeError {
  override name = 'DatasetFileError';
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

/** The error a worker reported, as the same class where we know it (so callers can branch on it). */
export function deserializeError(s: SerializedError): Error {
  let e: Error;
  if (s.name === 'ImageError' && s.path !== undefined) e = new ImageError(s.message, s.path, s.code as ImageErrorCode);
  else if (s.name === 'DatasetFileError' && s.file !== undefined) e = new DatasetFileError(s.message, s.file);
  else if (s.name === 'ConfigError') e = new ConfigError(s.message);
  else if (s.name === 'TypeError') e = new TypeError(s.message);
  else if (s.name === 'RangeError') e = new RangeError(s.message);
  else e = new Error(s.message);
  if (s.stack) e.stack = `${e.name}: ${s.message}\n    (in a data worker)\n${s.stack.split('\n').slice(1).join('\n')}`;
  return e;
}

/** A job: sample `index` drawn with the generator (seed, offset). */
export interface Job {
  id: number;
  index: number;
  seed: number;
  offset: number;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'result'; id: number; sample: Sample; offset: number }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'warning'; file: string; message: string }
  | { type: 'fatal'; error: SerializedError };

export interface WorkerData {
  /** The TypeScript entry, when started through the source bootstrap. */
  entry?: string;
  plan: WorkerPlan;
  signal: SharedArrayBuffer;
  port: MessagePort;
}

/** The worker script and, when running from sources, the TypeScript entry it should load. */
export function workerScript(): { url: URL; entry?: string } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return { url: new URL('./ts-worker-bootstrap.mjs', here), entry: new URL('./loader-worker.ts', here).href };
  const url = new URL('./loader-worker.js', here);
  if (!existsSync(fileURLToPath(url))) throw new Error(`mpfnet: the data worker ${fileURLToPath(url)} is missing; rebuild the package (npm run build:ts)`);
  return { url };
}

export interface WorkerPoolOptions {
  /** Called for each warning a worker reports (the pool does not deduplicate). */
  onWarning?: (file: string, message: string) => void;
  /** Give up when no worker has reported anything for this long while we wait (default 10 min). */
  stallMs?: number;
  /** Give up when a worker has not started (loaded its modules and the dataset) after this long (default 2 min). */
  startMs?: number;
}

/**
 * The parent's Node options minus those that only make sense for the main script: a worker given
 * `--input-type` fails to start ("can only be used with string input"), and `-e`/`-p` carry code.
 */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print' || a === '--input-type') {
      i++;
      continue;
    }
    if (/^--(eval|print|input-type)=/.test(a) || a === '-i' || a === '--interactive') continue;
    out.push(a);
  }
  return out;
}

type Result = { sample: Sample; offset: number } | { error: Error };

export class WorkerPool {
  readonly size: number;
  readonly #workers: Worker[] = [];
  readonly #ports: MessagePort[] = [];
  readonly #inflight: number[];
  readonly #owner = new Map<number, number>();
  readonly #results = new Map<number, Result>();
  readonly #ignored = new Set<number>();
  readonly #signal: Int32Array;
  readonly #onWarning: (file: string, message: string) => void;
  readonly #stallMs: number;
  readonly #startMs: number;
  readonly #started: boolean[];
  readonly #exited: boolean[];
  readonly #createdAt = performance.now();
  #nextId = 1;
  #fatal: Error | null = null;
  #closed = false;

  constructor(plan: WorkerPlan, size: number, o: WorkerPoolOptions = {}) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`WorkerPool: size must be a positive integer, got ${size}`);
    this.size = size;
    this.#inflight = new Array<number>(size).fill(0);
    this.#onWarning = o.onWarning ?? (() => {});
    this.#stallMs = o.stallMs ?? 600_000;
    this.#startMs = o.startMs ?? 120_000;
    this.#started = new Array<boolean>(size).fill(false);
    this.#exited = new Array<boolean>(size).fill(false);
    const sab = new SharedArrayBuffer(4);
    this.#signal = new Int32Array(sab);
    const script = workerScript();
    for (let w = 0; w < size; w++) {
      const { port1, port2 } = new MessageChannel();
      const data: WorkerData = { entry: script.entry, plan, signal: sab, port: port1 };
      const worker = new Worker(script.url, { workerData: data, transferList: [port1], name: `mpfnet-data-${w}`, execArgv: workerExecArgv() });
      worker.on('error', (e) => (this.#fatal ??= e instanceof Error ? e : new Error(String(e))));
      worker.on('exit', (code) => {
        this.#exited[w] = true;
        if (!this.#closed) this.#fatal ??= new Error(`data worker ${w} exited (code ${code})`);
      });
      // 'idle': collect its results, which lets go of it (see #handle).
      worker.on('message', () => this.#drain());
      // Idle workers do not keep the process alive; submit() holds a busy one.
      worker.unref();
      port2.unref();
      this.#workers.push(worker);
      this.#ports.push(port2);
    }
  }

  /** The worker with the fewest jobs in flight. */
  leastLoaded(): number {
    let best = 0;
    for (let w = 1; w < this.size; w++) if (this.#inflight[w]! < this.#inflight[best]!) best = w;
    return best;
  }

  /** Queue sample `index` with generator state `rng` on worker `w` (default: the least loaded). */
  submit(index: number, rng: { seed: number; offset: number }, w = this.leastLoaded()): number {
    if (this.#closed) throw new Error('WorkerPool: closed');
    const id = this.#nextId++;
    const job: Job = { id, index, seed: rng.seed, offset: rng.offset };
    this.#workers[w]!.postMessage(job);
    if (this.#inflight[w]!++ === 0) this.#workers[w]!.ref();
    this.#owner.set(id, w);
    return id;
  }

  /** Drop the results of these jobs when they arrive (after a seek). */
  discard(ids: Iterable<number>): void {
    for (const id of ids) {
      if (!this.#results.delete(id) && this.#owner.has(id)) this.#ignored.add(id);
    }
  }

  /** Take a finished job's result (null while it runs); throws the job's error. */
  take(id: number): { sample: Sample; offset: number } | null {
    const r = this.#results.get(id);
    if (!r) return null;
    this.#results.delete(id);
    if ('error' in r) throw r.error;
    return r;
  }

  #drain(): void {
    for (const [w, port] of this.#ports.entries()) {
      for (;;) {
        const m = receiveMessageOnPort(port);
        if (!m) break;
        this.#handle(w, m.message as WorkerMessage);
      }
    }
  }

  #handle(w: number, m: WorkerMessage): void {
    this.#started[w] = true;
    if (m.type === 'ready') return;
    if (m.type === 'warning') {
      this.#onWarning(m.file, m.message);
      return;
    }
    if (m.type === 'fatal') {
      this.#fatal ??= deserializeError(m.error);
      return;
    }
    const owner = this.#owner.get(m.id);
    if (owner !== undefined) {
      if (--this.#inflight[owner]! === 0) this.#workers[owner]!.unref();
      this.#owner.delete(m.id);
    }
    if (this.#ignored.delete(m.id)) return;
    this.#results.set(m.id, m.type === 'result' ? { sample: m.sample, offset: m.offset } : { error: deserializeError(m.error) });
  }

  #ready(ids: readonly number[]): boolean {
    if (this.#fatal) throw new Error(`data worker failed: ${this.#fatal.message}`, { cause: this.#fatal });
    return ids.every((id) => this.#results.has(id));
  }

  /** How long to wait before giving up: the start timeout while a worker we wait on has not started. */
  #limit(ids: readonly number[], since: number): { left: number; why: string } {
    const waitingOnUnstarted = ids.some((id) => {
      const w = this.#owner.get(id);
      return w !== undefined && !this.#started[w];
    });
    if (waitingOnUnstarted) {
      return { left: this.#startMs - (performance.now() - this.#createdAt), why: `a data worker did not start within ${Math.round(this.#startMs / 1000)} s (it may have failed to load: run with workers: 0, or call nextAsync() to see its error)` };
    }
    return { left: this.#stallMs - (performance.now() - since), why: `data workers reported nothing for ${Math.round(this.#stallMs / 1000)} s; giving up (a worker may have died or hung)` };
  }

  /** Block this thread until every job in ids has finished (the event loop does not turn). */
  waitSync(ids: readonly number[]): void {
    let since = performance.now();
    for (;;) {
      const seen = Atomics.load(this.#signal, 0);
      this.#drain();
      if (this.#ready(ids)) return;
      const { left, why } = this.#limit(ids, since);
      if (left <= 0) throw new Error(why);
      if (Atomics.wait(this.#signal, 0, seen, left) !== 'timed-out') since = performance.now();
    }
  }

  /** Wait for every job in ids without blocking the event loop. */
  async waitAsync(ids: readonly number[]): Promise<void> {
    const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string } }).waitAsync;
    let since = performance.now();
    for (;;) {
      const seen = Atomics.load(this.#signal, 0);
      this.#drain();
      if (this.#ready(ids)) return;
      const { left, why } = this.#limit(ids, since);
      if (left <= 0) throw new Error(why);
      // Short waits, so 'error' / 'exit' events of a worker that failed to start get through.
      const r = waitAsync(this.#signal, 0, seen, Math.min(left, 250));
      if ((r.async ? await r.value : r.value) !== 'timed-out') since = performance.now();
    }
  }

  /** One sample computed synchronously on worker `w` (used by Dataset.get()). */
  runSync(index: number, rng: { seed: number; offset: number }, w = 0): { sample: Sample; offset: number } {
    const id = this.submit(index, rng, w);
    this.waitSync([id]);
    return this.take(id)!;
  }

  /**
   * Stop the workers: each finishes the jobs it has started, then exits (after `graceMs`, default
   * 60 s, a worker still busy is terminated). Results still on their way are dropped. Safe to
   * call twice.
   */
  async close(graceMs = 60_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      this.#workers.map(async (w, i) => {
        if (this.#exited[i]) return;
        const exited = new Promise<void>((res) => w.once('exit', () => res()));
        w.ref();
        w.postMessage({ type: 'close' });
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((res) => (timer = setTimeout(() => res('late'), graceMs)));
        if ((await Promise.race([exited, late])) === 'late') await w.terminate();
        clearTimeout(timer);
      }),
    );
    for (const p of this.#ports) p.close();
  }
}
