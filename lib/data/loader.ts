// The prefetching loader: batches like BatchSampler's (same samples, same order, bit for bit),
// computed on worker threads ahead of time, so a training step finds its batch ready.
//
// Sample k of the run is dataset index schedule.index(k) drawn with schedule.generator(k)
// (SampleSchedule, dataset.ts), whichever worker computes it: the batches do not depend on the
// worker count. `prefetch` batches beyond the one being consumed are kept in flight. With a cache,
// each image is always given to the same worker (index mod workers), so each worker decodes and
// keeps only its share; without one, jobs go to the least busy worker.
//
// next() is synchronous, as the trainer's BatchSource wants: when the batch is not complete it
// blocks on a shared counter the workers bump (see worker-pool.ts) rather than spinning the event
// loop. nextAsync() waits without blocking. Datasets that cannot run on workers (no workerPlan(),
// e.g. InMemoryDataset) fall back to BatchSampler on this thread.
import { availableParallelism } from 'node:os';
import { BatchSampler, SampleSchedule, checkShard, collate, type Batch, type BatchSource, type Dataset, type Sample, type Shard } from './dataset.js';
import { WorkerPool, isWorkerCapable, type WorkerCapable } from './worker-pool.js';

/** Options of a {@link DataLoader} (docs/datasets.md, "The prefetching loader"). */
export interface LoaderOptions {
  batch: number;
  /** The data seed (the trainer passes fork(1) of the config's seed). */
  seed: number;
  shuffle?: boolean;
  /** Worker threads (default min(2, CPUs)). */
  workers?: number;
  /** Batches kept in flight beyond the one being consumed (default 2). */
  prefetch?: number;
  /** Give up when the workers report nothing for this long (default 10 minutes). */
  stallMs?: number;
  /** Distributed training: only this process's slice of each batch (dataset.ts, Shard). */
  shard?: Shard;
}

/** The default number of loader workers: min(2, the CPUs this process may use). */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

export class DataLoader implements BatchSource {
  readonly dataset: Dataset;
  readonly batch: number;
  readonly workers: number;
  readonly prefetch: number;
  readonly #schedule: SampleSchedule;
  readonly #pool: WorkerPool | null;
  readonly #fallback: BatchSampler | null;
  readonly #affinity: boolean;
  /** Job ids of samples consumed .. issued-1, by sample number. */
  readonly #jobs = new Map<number, number>();
  /** Global sample positions (whole batches, every shard's samples counted). */
  #consumed = 0;
  #issued = 0;
  readonly #shard: Shard;
  /** Samples of this process's slice of a batch. */
  readonly #local: number;

  constructor(dataset: Dataset, o: LoaderOptions) {
    if (dataset.length < 1) throw new RangeError('DataLoader: the dataset is empty');
    if (!Number.isSafeInteger(o.batch) || o.batch < 1) throw new RangeError(`DataLoader: batch must be a positive integer, got ${o.batch}`);
    const workers = o.workers ?? defaultWorkerCount();
    if (!Number.isSafeInteger(workers) || workers < 0 || workers > 64) throw new RangeError(`DataLoader: workers must be an integer in 0..64, got ${workers}`);
    const prefetch = o.prefetch ?? 2;
    if (!Number.isSafeInteger(prefetch) || prefetch < 0 || prefetch > 64) throw new RangeError(`DataLoader: prefetch must be an integer in 0..64, got ${prefetch}`);
    this.#shard = checkShard(o.shard, o.batch, 'DataLoader');
    this.#local = o.batch / this.#shard.count;
    this.dataset = dataset;
    this.batch = o.batch;
    this.prefetch = prefetch;
    this.#schedule = new SampleSchedule(dataset.length, o.seed, o.shuffle ?? true);
    if (workers > 0 && isWorkerCapable(dataset)) {
      const ds: WorkerCapable = dataset;
      this.workers = workers;
      this.#pool = new WorkerPool(ds.workerPlan(), workers, { onWarning: (f, m) => ds.warn?.(f, m), stallMs: o.stallMs });
      this.#fallback = null;
      this.#affinity = ds.cachesImages ?? false;
    } else {
      this.workers = 0;
      this.#pool = null;
      this.#fallback = new BatchSampler(dataset, { batch: o.batch, seed: o.seed, shuffle: o.shuffle, shard: o.shard });
      this.#affinity = false;
    }
    this.#fill();
  }

  /** Keep samples up to the end of batch (current + prefetch) in flight. */
  #fill(): void {
    const pool = this.#pool;
    if (!pool) return;
    const until = this.#consumed + (this.prefetch + 1) * this.batch;
    while (this.#issued < until) {
      for (const k of this.#slice(this.#issued)) {
        const index = this.#schedule.index(k);
        const w = this.#affinity ? index % pool.size : pool.leastLoaded();
        this.#jobs.set(k, pool.submit(index, this.#schedule.generator(k).getState(), w));
      }
      this.#issued += this.batch;
    }
  }

  /** The sample numbers this process takes of the batch starting at global position `start`. */
  #slice(start: number): number[] {
    const first = start + this.#shard.index * this.#local;
    return Array.from({ length: this.#local }, (_, i) => first + i);
  }

  #batchJobs(): number[] {
    return this.#slice(this.#consumed).map((k) => this.#jobs.get(k)!);
  }

  #collect(ids: number[]): Batch {
    const pool = this.#pool!;
    const samples: Sample[] = [];
    try {
      for (const id of ids) samples.push(pool.take(id)!.sample);
    } finally {
      for (const k of this.#slice(this.#consumed)) this.#jobs.delete(k);
      this.#consumed += this.batch;
      this.#fill();
    }
    return collate(samples);
  }

  /** The next batch; blocks (without turning the event loop) until the workers have it ready. */
  next(): Batch {
    if (this.#fallback) return this.#fallback.next();
    const ids = this.#batchJobs();
    this.#pool!.waitSync(ids);
    return this.#collect(ids);
  }

  /** The next batch, waiting without blocking the event loop. */
  async nextAsync(): Promise<Batch> {
    if (this.#fallback) return this.#fallback.next();
    const ids = this.#batchJobs();
    await this.#pool!.waitAsync(ids);
    return this.#collect(ids);
  }

  position(): number {
    return this.#fallback ? this.#fallback.position() : this.#consumed;
  }

  /** Continue from sample position `position`; batches in flight are dropped. */
  seek(position: number): void {
    if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`DataLoader.seek: position must be a non-negative integer, got ${position}`);
    if (this.#fallback) return this.#fallback.seek(position);
    if (position === this.#consumed) return;
    this.#pool!.discard(this.#jobs.values());
    this.#jobs.clear();
    this.#consumed = position;
    this.#issued = position;
    this.#fill();
  }

  /** Stop the workers. */
  async close(): Promise<void> {
    await this.#pool?.close();
  }
}
