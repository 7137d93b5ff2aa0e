// The data worker's main module (see worker-pool.ts): rebuild the dataset from its plan, then
// answer jobs with samples. Native ops here run on this thread alone, so workers never queue for
// the thread pool the training step uses.
import { parentPort, workerData } from 'node:worker_threads';
import type { Sample } from './dataset.js';
import { serializeError } from '../workers/errors.js';
import type { Job, WorkerData, WorkerMessage } from './worker-pool.js';

interface Replica {
  getAsync(i: number, rng: unknown): Promise<Sample>;
  setWarningSink?(sink: (file: string, message: string) => void): void;
}

const data = workerData as WorkerData;
const signal = new Int32Array(data.signal);
const port = data.port;

function send(m: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
  // After the post: a reader that sees the new count finds the message on the port.
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

process.on('uncaughtException', (e) => send({ type: 'fatal', error: serializeError(e) }));
process.on('unhandledRejection', (e) => send({ type: 'fatal', error: serializeError(e) }));

const ready = (async () => {
  const { native } = await import('../../bindings/index.js');
  native.setThreadSerial(true);
  const { Generator } = await import('../random.js');
  const mod = (await import(data.plan.module)) as Record<string, { fromPlan(...args: unknown[]): Replica | Promise<Replica> }>;
  const cls = mod[data.plan.exportName];
  if (!cls || typeof cls.fromPlan !== 'function') throw new Error(`${data.plan.module} has no export '${data.plan.exportName}' with a fromPlan()`);
  const dataset = await cls.fromPlan(...data.plan.args);
  dataset.setWarningSink?.((file, message) => send({ type: 'warning', file, message }));
  send({ type: 'ready' });
  return { dataset, Generator };
})();
ready.catch((e: unknown) => send({ type: 'fatal', error: serializeError(e) }));

let pending = 0;
let closing = false;

/** After 'close': once the jobs in flight are done, close the ports so the thread ends by itself. */
function maybeExit(): void {
  if (closing && pending === 0) {
    port.close();
    parentPort!.close();
  }
}

async function run(job: Job): Promise<void> {
  let r: Awaited<typeof ready>;
  try {
    r = await ready;
  } catch {
    return; // reported once as fatal
  }
  try {
    const rng = new r.Generator(job.seed, job.offset);
    const sample = await r.dataset.getAsync(job.index, rng);
    const buffers = [...new Set([sample.lr.data.buffer, sample.hr.data.buffer])].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
    send({ type: 'result', id: job.id, sample, offset: rng.offset }, buffers);
  } catch (e) {
    send({ type: 'error', id: job.id, error: serializeError(e) });
  }
}

parentPort!.on('message', (m: Job | { type: 'close' }) => {
  if ('type' in m) {
    closing = true;
    maybeExit();
    return;
  }
  pending++;
  void run(m).finally(() => {
    pending--;
    // Tell the main thread we ran dry, so it can let go of this thread (see worker-pool.ts).
    if (pending === 0 && !closing) parentPort!.postMessage({ type: 'idle' });
    maybeExit();
  });
});
