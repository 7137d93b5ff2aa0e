// The caller's side of the model worker (upscale-worker.ts): starts it, sends tile jobs, matches
// results to jobs, and stops it: politely (close: the worker frees its model and exits) or on
// cancellation (a shared flag the worker polls between blocks; it answers within one block, frees
// that tile's tensors, and is then closed the same way; terminate() only if it does not answer).
//
// Workers run compiled JavaScript: dist/lib/infer/upscale-worker.js in a package; when this file
// itself runs from TypeScript sources (vitest), through lib/data/ts-worker-bootstrap.mjs, the
// datasets' loader that transpiles the sources on the fly.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { MPFNetConfig } from '../models/mpfnet/config.js';
import { CANCEL_SLOT, type FromWorker, type ModelSpec, type SerializedError, type TileJob, type UpscaleWorkerData } from './worker-protocol.js';

function workerScript(): { url: URL; entry?: string } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return { url: new URL('../data/ts-worker-bootstrap.mjs', here), entry: new URL('./upscale-worker.ts', here).href };
  const url = new URL('./upscale-worker.js', here);
  if (!existsSync(fileURLToPath(url))) throw new Error(`mpfnet: the upscale worker ${fileURLToPath(url)} is missing; rebuild the package (npm run build:ts)`);
  return { url };
}

// Errors keep their family across the thread boundary, so callers (and the CLI's exit codes:
// TypeError / RangeError mean bad input) can tell a bad checkpoint from a crash.
const TYPE_ERRORS = new Set(['TypeError', 'ImageError']);
const RANGE_ERRORS = new Set(['RangeError', 'SafetensorsError', 'ConfigError']);

function revive(s: SerializedError, where: string): Error {
  const Ctor = TYPE_ERRORS.has(s.name) ? TypeError : RANGE_ERRORS.has(s.name) ? RangeError : Error;
  const e = new Ctor(s.message);
  if (s.name && s.name !== e.name) e.name = s.name;
  if (s.stack) e.stack = `${s.name}: ${s.message}\n    (in ${where})\n${s.stack.split('\n').slice(1).join('\n')}`;
  return e;
}

/** Thrown by run() for jobs cut short by cancel(). */
export class CancelledError extends Error {
  override name = 'AbortError';
}

interface Pending {
  resolve(data: Float32Array): void;
  reject(e: Error): void;
}

export class ModelWorker {
  readonly scale: 2 | 3 | 4;
  readonly config: MPFNetConfig;
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #flags: Int32Array;
  readonly #pending = new Map<number, Pending>();
  readonly #drained: (() => void)[] = [];
  #nextId = 1;
  #dead: Error | null = null;
  #exited: Promise<void>;
  #closing: Promise<void> | null = null;

  private constructor(worker: Worker, port: MessagePort, flags: Int32Array, ready: { scale: 2 | 3 | 4; config: MPFNetConfig }, exited: Promise<void>) {
    this.#worker = worker;
    this.#port = port;
    this.#flags = flags;
    this.scale = ready.scale;
    this.config = ready.config;
    this.#exited = exited;
    port.on('message', (m: FromWorker) => this.#onMessage(m));
    worker.on('error', (e) => this.#die(e instanceof Error ? e : new Error(String(e))));
    void exited.then(() => this.#die(new Error('the upscale worker has exited')));
    this.#idle();
  }

  /** Start a worker and load the model in it; rejects with the loading error (e.g. a bad file). */
  static async start(model: ModelSpec, device: 'cpu' | 'cuda'): Promise<ModelWorker> {
    const script = workerScript();
    const sab = new SharedArrayBuffer(8);
    const { port1, port2 } = new MessageChannel();
    const data: UpscaleWorkerData = { entry: script.entry, signal: sab, port: port1, model, device };
    const transfer = [port1, ...(model.kind === 'weights' ? model.tensors.map(([, , d]) => d.buffer as ArrayBuffer) : [])];
    const worker = new Worker(script.url, { workerData: data, transferList: transfer, name: 'mpfnet-upscale' });
    let onExit: () => void = () => {};
    const exited = new Promise<void>((res) => (onExit = res));
    let fail: (e: Error) => void = () => {};
    const ready = new Promise<{ scale: 2 | 3 | 4; config: MPFNetConfig }>((resolve, reject) => {
      fail = reject;
      port2.once('message', (m: FromWorker) => {
        if (m.type === 'ready') resolve({ scale: m.scale, config: m.config });
        else if (m.type === 'fatal') reject(revive(m.error, 'the upscale worker'));
        else reject(new Error(`upscale worker: unexpected first message '${m.type}'`));
      });
    });
    worker.once('error', (e) => fail(e instanceof Error ? e : new Error(String(e))));
    worker.once('exit', (code) => {
      fail(new Error(`the upscale worker exited before loading the model (code ${code})`));
      onExit();
    });
    try {
      const r = await ready;
      return new ModelWorker(worker, port2, new Int32Array(sab), r, exited);
    } catch (e) {
      port2.close();
      await worker.terminate();
      throw e;
    }
  }

  /** Jobs sent and not yet answered. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Upscale one tile: planar output (colour planes, then alpha), scale× the job's size. */
  run(job: Omit<TileJob, 'type' | 'id'>): Promise<Float32Array> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    const msg: TileJob = { type: 'tile', id, ...job };
    const transfer = [job.rgb.buffer as ArrayBuffer, ...(job.alpha ? [job.alpha.buffer as ArrayBuffer] : [])];
    // Keep the process alive while work is in flight (only then: an idle worker must not).
    this.#worker.ref();
    this.#port.ref();
    return new Promise<Float32Array>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#port.postMessage(msg, transfer);
    });
  }

  #idle(): void {
    if (this.#pending.size) return;
    for (const w of this.#drained.splice(0)) w();
    this.#worker.unref();
    this.#port.unref();
  }

  #settle(id: number, f: (p: Pending) => void): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    f(p);
    this.#idle();
  }

  #onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'result':
        this.#settle(m.id, (p) => p.resolve(m.data));
        break;
      case 'error':
        this.#settle(m.id, (p) => p.reject(revive(m.error, 'the upscale worker')));
        break;
      case 'cancelled':
        this.#settle(m.id, (p) => p.reject(new CancelledError('the tile was cancelled')));
        break;
      case 'fatal':
        this.#die(revive(m.error, 'the upscale worker'));
        break;
      default:
        break;
    }
  }

  #die(e: Error): void {
    this.#dead ??= e;
    for (const [id] of this.#pending) this.#settle(id, (p) => p.reject(e));
  }

  /**
   * Stop work in progress: the running tile stops within one block of the network, queued tiles
   * are answered as cancelled, then the worker is closed. Resolves when it has exited.
   */
  async cancel(): Promise<void> {
    Atomics.store(this.#flags, CANCEL_SLOT, 1);
    await this.close();
  }

  /** Free the model and end the worker (after the jobs in flight). Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#worker.ref();
      this.#port.ref();
      if (this.#pending.size && !this.#dead) await new Promise<void>((res) => this.#drained.push(res));
      this.#port.postMessage({ type: 'close' });
      // The worker frees its model and exits at once; a wedged one is terminated.
      const timeout = new Promise<'timeout'>((res) => setTimeout(res, 10_000, 'timeout').unref());
      if ((await Promise.race([this.#exited.then(() => 'exited' as const), timeout])) === 'timeout') await this.#worker.terminate();
      this.#die(new Error('the upscale worker is closed'));
      this.#port.close();
    })();
    return this.#closing;
  }
}
