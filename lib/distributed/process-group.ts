// The processes of a data-parallel job (docs/distributed-training.md). One per process, created
// on first use: a single process (no launcher, or a launcher with one process) needs nothing; N > 1
// processes load the MPI plugin and talk through MPI. Everything collective is asynchronous (the
// plugin runs it on a libuv worker thread), so the event loop is never blocked waiting for peers.
import { detectLauncher, launchedDistributed, type LaunchInfo } from './launcher.js';
import { loadMpiPlugin, type MpiPlugin } from './mpi-plugin.js';

/** Gradient bucket size: ~8 MB of float32 per MPI_Allreduce call. */
export const BUCKET_FLOATS = 2 * 1024 * 1024;

/** Timing of the last all-reduce (for the log and the benchmark). */
export interface AllreduceStats {
  seconds: number;
  bytes: number;
  buckets: number;
}

/** The job's processes as seen from this one. */
export interface ProcessGroup {
  readonly rank: number;
  readonly size: number;
  /** Rank 0: the one that writes logs, validation and checkpoints. */
  readonly isRoot: boolean;
  /** Rank on this node (one GPU each), or null when the launcher does not say. */
  readonly localRank: number | null;
  /** "single process" or the MPI library's name. */
  readonly transport: string;
  /** Mean over all processes of `data`, in place. */
  allreduceMean(data: Float32Array): Promise<AllreduceStats>;
  /** Every process's bytes (all the same length), in rank order. */
  allgather(bytes: Uint8Array): Promise<Uint8Array[]>;
  /** End the whole job with `message` on stderr (never returns). */
  abort(message: string, code?: number): never;
}

class SingleProcess implements ProcessGroup {
  readonly rank = 0;
  readonly size = 1;
  readonly isRoot = true;
  readonly localRank = null;
  readonly transport = 'single process';
  async allreduceMean(data: Float32Array): Promise<AllreduceStats> {
    return { seconds: 0, bytes: data.byteLength, buckets: 0 };
  }
  async allgather(bytes: Uint8Array): Promise<Uint8Array[]> {
    return [bytes.slice()];
  }
  abort(message: string, code = 1): never {
    process.stderr.write(message + '\n');
    process.exit(code);
  }
}

class MpiGroup implements ProcessGroup {
  readonly rank: number;
  readonly size: number;
  readonly isRoot: boolean;
  readonly localRank: number | null;
  readonly transport: string;
  readonly #mpi: MpiPlugin;
  #busy = false;

  constructor(mpi: MpiPlugin, launch: LaunchInfo) {
    const { rank, size, library } = mpi.init();
    this.#mpi = mpi;
    this.rank = rank;
    this.size = size;
    this.isRoot = rank === 0;
    this.localRank = launch.localRank;
    this.transport = library;
    // MPI_Finalize on a normal exit; Open MPI's mpirun counts a rank that exits without it as failed.
    process.once('exit', () => mpi.finalize());
    // The launcher and MPI must agree, or the data would be split wrongly.
    if (launch.size !== null && launch.size !== size) {
      throw new Error(`the launcher says ${launch.size} processes (${launch.source}), MPI says ${size}`);
    }
  }

  // One collective at a time (MPI_THREAD_SERIALIZED): overlapping calls are a programming error.
  async #serial<T>(what: string, f: () => Promise<T>): Promise<T> {
    if (this.#busy) throw new Error(`${what} started while another collective is in flight`);
    this.#busy = true;
    try {
      return await f();
    } finally {
      this.#busy = false;
    }
  }

  allreduceMean(data: Float32Array): Promise<AllreduceStats> {
    return this.#serial('allreduceMean', () => this.#mpi.allreduceMean(data, BUCKET_FLOATS));
  }

  allgather(bytes: Uint8Array): Promise<Uint8Array[]> {
    return this.#serial('allgather', async () => {
      const all = await this.#mpi.allgather(bytes);
      return Array.from({ length: this.size }, (_, r) => all.subarray(r * bytes.length, (r + 1) * bytes.length));
    });
  }

  abort(message: string, code = 1): never {
    return this.#mpi.abort(code, message);
  }
}

let group: ProcessGroup | null = null;

/**
 * This process's group: MPI when a launcher started several processes, else a single process.
 * Throws, naming the launcher, when several were started but the MPI plugin cannot load.
 */
export function processGroup(): ProcessGroup {
  if (group) return group;
  const launch = detectLauncher();
  if (!launch || !launchedDistributed(launch)) {
    group = new SingleProcess();
  } else {
    const mpi = loadMpiPlugin(`${launch.source} says this is rank ${launch.rank} of ${launch.size ?? 'several'} processes`);
    group = new MpiGroup(mpi, launch);
  }
  return group;
}
