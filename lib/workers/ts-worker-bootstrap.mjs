// Starts a worker thread (lib/workers/spawn.ts) when mpfnet runs from its TypeScript sources
// (vitest, or a checkout without dist/): registers module hooks that transpile .ts files with the
// project's TypeScript, then loads the worker entry named in workerData.entry. A built package never uses this file; its
// workers load their compiled scripts (dist/lib/.../*-worker.js) directly.
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';

register('./ts-worker-hooks.mjs', import.meta.url);
try {
  await import(workerData.entry);
} catch (e) {
  // Report a failed start to the waiting thread the way the worker itself reports errors.
  const signal = new Int32Array(workerData.signal);
  workerData.port.postMessage({ type: 'fatal', error: { name: e?.name ?? 'Error', message: `cannot start the worker from sources: ${e?.message ?? e}`, stack: e?.stack } });
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}
