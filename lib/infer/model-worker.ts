// The caller's side of the model worker (upscale-worker.ts): starts it, sends tile jobs, matches
// results to jobs, and stops it: politely (close: the worker frees its model and exits) or on
// cancellation (a shared flag the worker polls between blocks; it answers within one block, frees
// that tile's tensors, and is then closed the same way; terminate() only if it does not answer).
//
// The worker is started, its errors revived and its liveness kept by the shared worker module
// (lib/workers/): it keeps the process alive while a tile is in flight or it is being closed.
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { MPFNetConfig } from '../models/mpfnet/config.js';
import { KeepAlive, PendingRequests } from '../workers/channel.js';
import type { InferencePrecision } from './precision.js';
import { reviveError } from '../workers/errors.js';
import { startWorker } from '../workers/spawn.js';
import { CANCEL_SLOT, type FromWorker, type ModelSpec, type TileJob, type UpscaleWorkerData } from './worker-protocol.js';

const WHERE = 'the upscale worker';

/** Thrown by run() for jobs cut short by cancel(). */
export class CancelledError extends Error {
  override name = 'AbortError';
}

export class ModelWorker {
  readonly scale: 2 | 3 | 4;
  readonly config: MPFNetConfig;
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #flags: Int32Array;
  readonly #alive: KeepAlive;
  readonly #pending: PendingRequests<Float32Array>;
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
    // After the listeners: adding a 'message' listener refs the port again.
    this.#alive = new KeepAlive([worker, port]);
    this.#pending = new PendingRequests(this.#alive);
  }

  /**
   * Start a worker and load the model in it; rejects with the loading error (e.g. a bad file).
   * `precision` is set on the worker's thread for all its forward passes; `cudaGraph` (cuda only)
   * replays each tile shape's pass as a CUDA graph.
   */
  static async start(model: ModelSpec, device: 'cpu' | 'cuda', precision: InferencePrecision = 'strict', cudaGraph = false): Promise<ModelWorker> {
    const sab = new SharedArrayBuffer(8);
    const { port1, port2 } = new MessageChannel();
    const transfer = [port1, ...(model.kind === 'weights' ? model.tensors.map(([, , d]) => d.buffer as ArrayBuffer) : [])];
    const worker = startWorker<UpscaleWorkerData>(import.meta.url, 'upscale-worker', { signal: sab, port: port1, model, device, precision, cudaGraph }, { transferList: transfer, name: 'mpfnet-upscale' });
    let onExit: () => void = () => {};
    const exited = new Promise<void>((res) => (onExit = res));
    let fail: (e: Error) => void = () => {};
    const ready = new Promise<{ scale: 2 | 3 | 4; config: MPFNetConfig }>((resolve, reject) => {
      fail = reject;
      port2.once('message', (m: FromWorker) => {
        if (m.type === 'ready') resolve({ scale: m.scale, config: m.config });
        else if (m.type === 'fatal') reject(reviveError(m.error, WHERE));
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
    // The process stays alive until the answer comes (see lib/workers/channel.ts).
    const { id, answer } = this.#pending.open();
    const msg: TileJob = { type: 'tile', id, ...job };
    const transfer = [job.rgb.buffer as ArrayBuffer, ...(job.alpha ? [job.alpha.buffer as ArrayBuffer] : [])];
    this.#port.postMessage(msg, transfer);
    return answer;
  }

  #onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'result':
        this.#pending.settle(m.id, { value: m.data });
        break;
      case 'error':
        this.#pending.settle(m.id, { error: reviveError(m.error, WHERE) });
        break;
      case 'cancelled':
        this.#pending.settle(m.id, { error: new CancelledError('the tile was cancelled') });
        break;
      case 'fatal':
        this.#die(reviveError(m.error, WHERE));
        break;
      default:
        break;
    }
  }

  #die(e: Error): void {
    this.#dead ??= e;
    this.#pending.rejectAll(e);
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
      // Alive until the worker has exited, even once the last tile is answered (never released).
      this.#alive.hold();
      if (!this.#dead) await this.#pending.idle();
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
