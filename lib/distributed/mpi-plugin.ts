// Loading the MPI plugin, mpfnet_mpi.so (native/mpi): built next to mpfnet.node where CMake
// found MPI, or named by $MPFNET_MPI_PLUGIN. It is opened with RTLD_GLOBAL because Open MPI loads
// its own components with dlopen and they expect libmpi's symbols to be global.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../bindings/index.js';

/** The plugin's functions (native/mpi/mpi_addon.cc). */
export interface MpiPlugin {
  init(): { rank: number; size: number; library: string };
  /** Sum over ranks in place, in buckets of `bucketFloats`, then divide by the rank count. */
  allreduceMean(data: Float32Array, bucketFloats: number): Promise<{ seconds: number; buckets: number; bytes: number }>;
  /** Every rank's bytes (all the same length), concatenated in rank order. */
  allgather(bytes: Uint8Array): Promise<Buffer>;
  /** Print `message`, then end every process of the job (MPI_Abort). */
  abort(code: number, message: string): never;
  finalize(): void;
  /** Present where the plugin was built with NCCL: join the job's NCCL communicator on GPU `device`. */
  ncclInit?(device: number): { version: number };
  /** Copy to the GPU, ncclAllReduce (sum), copy back, divide by the rank count (the GPU check's smoke test). */
  ncclAllreduceMean?(data: Float32Array): Promise<{ seconds: number; bytes: number }>;
}

/** Where the plugin is looked for, in order. */
export function mpiPluginCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (env.MPFNET_MPI_PLUGIN) out.push(env.MPFNET_MPI_PLUGIN);
  if (env.MPFNET_ADDON) out.push(join(dirname(env.MPFNET_ADDON), 'mpfnet_mpi.so'));
  const root = packageRoot();
  out.push(join(root, 'build', 'Release', 'mpfnet_mpi.so'));
  try {
    const require = createRequire(import.meta.url);
    out.push(join(dirname((require('node-gyp-build') as { path(d: string): string }).path(root)), 'mpfnet_mpi.so'));
  } catch {
    /* no addon found: the other candidates are still worth trying */
  }
  return [...new Set(out)];
}

/** Load the plugin; the error lists every place tried and how to get one. */
export function loadMpiPlugin(why: string): MpiPlugin {
  const tried: string[] = [];
  for (const path of mpiPluginCandidates()) {
    if (!existsSync(path)) {
      tried.push(`${path}: does not exist`);
      continue;
    }
    const mod = { exports: {} as MpiPlugin };
    try {
      process.dlopen(mod, path, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL);
      return mod.exports;
    } catch (e) {
      tried.push(`${path}: ${(e as Error).message}`);
    }
  }
  throw new Error(
    `${why}, but the MPI plugin mpfnet_mpi.so cannot be loaded:\n  ${tried.join('\n  ')}\n` +
      'It is compiled where MPI is installed (Debian: apt-get install openmpi-bin libopenmpi-dev), then\n' +
      'MPFNET_BUILD_FROM_SOURCE=1 npm rebuild mpfnet (see docs/distributed-training.md).',
  );
}
