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
// Starting workers, reviving their errors and keeping them alive only while busy is the shared
// worker module's job (lib/workers/).
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { KeepAlive } from '../workers/channel.js';
import { reviveError, type SerializedError } from '../workers/errors.js';
import { startWorker, type BaseWorkerData } from '../workers/spawn.js';
import type { Sample } from './dataset.js';

export { DatasetFileError } from './dataset-file-error.js';

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

/** The data worker's workerData (signal's slot 0 counts the messages it posted). */
export interface WorkerData extends BaseWorkerData {
  plan: WorkerPlan;
}

export interface WorkerPoolOptions {
  /** Called for each warning a worker reports (the pool does not deduplicate). */
  onWarning?: (file: string, message: string) => void;
  /** Give up when no worker has reported anything for this long while we wait (default 10 min). */
  stallMs?: number;
  /** Give up when a worker has not started (loaded its modules and the dataset) after this long (default 2 min). */
  startMs?: number;
}

type Result = { sample: Sample; offset: number } | { error: Error };

export class WorkerPool {
  readonly size: number;
  readonly #workers: Worker[] = [];
  readonly #ports: MessagePort[] = [];
  /** Per worker: held once per job in flight, and for good once closing. */
  readonly #alive: KeepAlive[] = [];
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
    for (let w = 0; w < size; w++) {
      const { port1, port2 } = new MessageChannel();
      const worker = startWorker<WorkerData>(import.meta.url, 'loader-worker', { plan, signal: sab, port: port1 }, { transferList: [port1], name: `mpfnet-data-${w}` });
      worker.on('error', (e) => (this.#fatal ??= e instanceof Error ? e : new Error(String(e))));
      worker.on('exit', (code) => {
        this.#exited[w] = true;
        if (!this.#closed) this.#fatal ??= new Error(`data worker ${w} exited (code ${code})`);
      });
      // 'idle': collect its results, which lets go of it (see #handle).
      worker.on('message', () => this.#drain());
      // Idle workers do not keep the process alive; submit() holds a busy one. (The port is read
      // with receiveMessageOnPort, never through a listener, so it need not keep anything alive.)
      this.#alive.push(new KeepAlive([worker]));
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
    this.#inflight[w]!++;
    this.#alive[w]!.hold();
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
      this.#fatal ??= reviveError(m.error, 'a data worker');
      return;
    }
    const owner = this.#owner.get(m.id);
    if (owner !== undefined) {
      this.#inflight[owner]!--;
      this.#alive[owner]!.release();
      this.#owner.delete(m.id);
    }
    if (this.#ignored.delete(m.id)) return;
    this.#results.set(m.id, m.type === 'result' ? { sample: m.sample, offset: m.offset } : { error: reviveError(m.error, 'a data worker') });
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
    const waitAsync = (Atomics as unknown as { waitAsync(this: void, a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string } }).waitAsync;
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
        this.#alive[i]!.hold();
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
