// Data parallelism for the trainer (docs/distributed-training.md): after each rank's backward
// pass the gradients are averaged over the ranks (one flat float32 buffer, all-reduced in ~8 MB
// buckets), so every rank applies the same Adam step to the same weights. A few scalars ride
// along in the same buffer: the loss terms (so rank 0 logs the global batch's loss) and a stop
// flag (so a signal on any rank stops every rank after the same iteration).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../bindings/index.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import type { AllreduceStats, ProcessGroup } from './process-group.js';

/** What averageGradients() returns: the scalars' means over the ranks, and the all-reduce's timing. */
export interface AveragedStep {
  scalars: number[];
  /** Whether any rank asked to stop. */
  stop: boolean;
  stats: AllreduceStats;
}

/**
 * Replace each parameter's gradient by its mean over the ranks; `scalars` (e.g. loss values) are
 * averaged too, and `stop` is true on every rank when it was true on any.
 */
export async function averageGradients(group: ProcessGroup, params: readonly Tensor[], scalars: readonly number[], stop: boolean): Promise<AveragedStep> {
  let total = 0;
  for (const p of params) total += p.numel;
  const flat = new Float32Array(total + scalars.length + 1);
  let off = 0;
  for (const p of params) {
    // A parameter without a gradient contributes zeros (the same on every rank: same model, same losses).
    if (p.grad) flat.set(p.grad.toFloat32Array(), off);
    off += p.numel;
  }
  flat.set(scalars, total);
  flat[total + scalars.length] = stop ? 1 : 0;
  const stats = await group.allreduceMean(flat);
  off = 0;
  for (const p of params) {
    if (p.grad) {
      const g = tensor(flat.subarray(off, off + p.numel), p.grad.shape, { dtype: p.grad.dtype, device: p.grad.device });
      p.grad.dispose();
      p.grad = g;
    }
    off += p.numel;
  }
  return { scalars: Array.from(flat.subarray(total, total + scalars.length)), stop: flat[total + scalars.length]! > 0, stats };
}

function sha256(...parts: (string | Uint8Array)[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** mpfnet's version from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Start-up check: every rank must run the same code version and config and start from the same
 * weights. Each rank's three SHA-256 digests are gathered; a rank that differs from rank 0 makes
 * every rank throw the same error, naming that rank and what differs.
 */
export async function checkSameRun(group: ProcessGroup, o: { config: string; weights: Iterable<[string, Tensor]>; version?: string }): Promise<void> {
  if (group.size === 1) return;
  const w = createHash('sha256');
  for (const [name, t] of o.weights) {
    w.update(name);
    const d = t.toFloat32Array();
    w.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  const version = o.version ?? packageVersion();
  const mine = Buffer.concat([sha256(version), sha256(o.config), w.digest()]);
  const all = await group.allgather(mine);
  const what = ['mpfnet version', 'training config', 'initial weights'];
  for (const [r, theirs] of all.entries()) {
    const diff = what.filter((_, i) => !Buffer.from(theirs.subarray(i * 32, i * 32 + 32)).equals(Buffer.from(all[0]!.subarray(i * 32, i * 32 + 32))));
    if (diff.length) {
      throw new RangeError(`distributed training: rank ${r} has a different ${diff.join(' and ')} than rank 0 (every rank must run the same mpfnet with the same config and weights)`);
    }
  }
}
