// Which launcher started this process, read from the environment it sets: Open MPI's mpirun
// (OMPI_COMM_WORLD_*), MPICH / Intel MPI's Hydra (PMI_*), PMIx launchers (PMIX_RANK) and Slurm's
// srun (SLURM_*). Reading the environment needs no MPI library, so a plain `mpfnet train` never
// loads one.

/** What the launcher's environment says about this process. */
export interface LaunchInfo {
  /** The launcher's variables that were found (for messages). */
  source: string;
  /** This process's rank, and the job's process count (null: not given; MPI will tell). */
  rank: number;
  size: number | null;
  /** Rank among the processes on this node (one GPU per local rank), when given. */
  localRank: number | null;
}

function int(env: NodeJS.ProcessEnv, name: string): number | null {
  const v = env[name];
  if (v === undefined || v.trim() === '') return null;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** The launcher's view of this process, or null when no launcher started it. */
export function detectLauncher(env: NodeJS.ProcessEnv = process.env): LaunchInfo | null {
  const variants: [string, string, string | null, string | null][] = [
    ['OMPI_COMM_WORLD_*', 'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_LOCAL_RANK'],
    ['PMI_*', 'PMI_RANK', 'PMI_SIZE', 'MPI_LOCALRANKID'],
    ['PMIX_RANK', 'PMIX_RANK', null, null],
    ['SLURM_PROCID', 'SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID'],
  ];
  for (const [source, rankVar, sizeVar, localVar] of variants) {
    const rank = int(env, rankVar);
    if (rank === null) continue;
    return { source, rank, size: sizeVar ? int(env, sizeVar) : null, localRank: localVar ? int(env, localVar) : null };
  }
  return null;
}

/** Whether the launcher started more than one process (or did not say how many). */
export function launchedDistributed(info: LaunchInfo | null): boolean {
  return info !== null && (info.size === null || info.size > 1);
}
