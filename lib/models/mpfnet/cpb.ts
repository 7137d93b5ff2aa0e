// The Cross-Perception Block (docs/model.md §1, paper eqs. 4–6), for n branches L_1..L_n (n = 5 by default;
// indices here are 0-based, so up[j] makes u_j and down[j-1] makes d_j):
//   u_{n-1} = L_{n-1} ;  u_j = up[j](L_j, u_{j+1})           j = n-2 .. 0   (top-down)
//   d_0 = u_0         ;  d_j = down[j-1](u_j, d_{j-1})       j = 1 .. n-1   (bottom-up)
//   L_j <- L_j + d_j
// Without cross fusion (Table V): L_j <- L_j + branch[j](L_j).
// With the tape off (inference) each u_j and d_j is freed as soon as nothing needs it, so the peak
// holds the levels, the two paths and one block's internals, not every activation of the block.
// For one image on the CPU it also never scales a map: each Block's squeeze-excitation scales
// travel with its output and are folded into whatever reads it (the next c1's weights, the residual
// sum L_j + s_j · d_j), which takes a pass over memory per Block off inference.
import { isGradEnabled, releaseUnlessRecording as release } from '../../autograd/scope.js';
import { ModuleList } from '../../nn/containers.js';
import type { InitOptions } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import { add, addInPlace, scaleAddInPlace } from '../../ops/index.js';
import type { Tensor } from '../../tensor.js';
import { Block, type Deferred } from './block.js';

/**
 * The Cross-Perception Block: top-down and bottom-up pathways of Blocks over the branches (docs/model.md §1).
 */
export class CrossPerceptionBlock extends Module {
  readonly branches: number;
  readonly crossFusion: boolean;
  readonly up?: ModuleList<Block>;
  readonly down?: ModuleList<Block>;
  readonly branch?: ModuleList<Block>;

  constructor(channels: number, branches: number, seReduction: number, crossFusion: boolean, o: InitOptions = {}) {
    super();
    this.branches = branches;
    this.crossFusion = crossFusion;
    const blocks = (n: number, inputs: number) => new ModuleList(Array.from({ length: n }, () => new Block(channels, inputs, seReduction, o)));
    if (crossFusion) {
      // Registration order fixes the state-dict order and the order of seeded initialisation.
      this.up = this.registerModule('up', blocks(branches - 1, 2));
      this.down = this.registerModule('down', blocks(branches - 1, 2));
    } else {
      this.branch = this.registerModule('branch', blocks(branches, 1));
    }
  }

  /** The block's new levels; `afterBlock` runs after every Block (it may throw, e.g. to cancel). */
  forward(levels: Tensor[], o: { afterBlock?: () => void } = {}): Tensor[] {
    const n = this.branches;
    if (levels.length !== n) throw new RangeError(`CrossPerceptionBlock: expected ${n} feature maps, got ${levels.length}`);
    if (!isGradEnabled() && levels[0]!.device === 'cpu' && levels[0]!.shape[0] === 1) return this.#forwardDeferred(levels, () => o.afterBlock?.());
    const block = (b: Block, xs: Tensor[]) => {
      const y = b.forward(xs);
      o.afterBlock?.();
      return y;
    };
    if (!this.crossFusion) {
      return levels.map((l, j) => {
        const d = block(this.branch!.at(j), [l]);
        if (!isGradEnabled()) {
          addInPlace(d, l);
          return d;
        }
        const out = add(l, d);
        release(d);
        return out;
      });
    }
    const u = new Array<Tensor>(n);
    u[n - 1] = levels[n - 1]!;
    for (let j = n - 2; j >= 0; j--) u[j] = block(this.up!.at(j), [levels[j]!, u[j + 1]!]);
    const d = new Array<Tensor>(n);
    d[0] = u[0]!;
    for (let j = 1; j < n; j++) {
      d[j] = block(this.down!.at(j - 1), [u[j]!, d[j - 1]!]);
      // u_j was needed only for d_j (u_0 is d_0, freed with the d's; u_{n-1} is a level, the caller's).
      if (j < n - 1) release(u[j]!);
    }
    // Every d_j was made here (n >= 2, so d_0 = u_0 is not a level) and nothing reads it after this:
    // with the tape off the sums go into the d_j themselves, no new maps.
    if (!isGradEnabled()) {
      levels.forEach((l, j) => addInPlace(d[j]!, l));
      return d;
    }
    const out = levels.map((l, j) => add(l, d[j]!));
    release(...d);
    return out;
  }

  /**
   * forward with the tape off for one image on the CPU, the same pathways with Block.forwardDeferred:
   * the maps carry their squeeze-excitation scales until a consumer folds them in, and the residual
   * sums go into the d_j as d_j · s_j + L_j (scaleAddInPlace). Equal to forward up to rounding.
   */
  #forwardDeferred(levels: Tensor[], afterBlock: () => void): Tensor[] {
    const n = this.branches;
    const block = (b: Block, xs: Deferred[]) => {
      const y = b.forwardDeferred(xs);
      afterBlock();
      return y;
    };
    const level = (j: number): Deferred => ({ t: levels[j]!, s: null });
    let d: Deferred[];
    if (!this.crossFusion) {
      d = levels.map((_, j) => block(this.branch!.at(j), [level(j)]));
    } else {
      const u = new Array<Deferred>(n);
      u[n - 1] = level(n - 1);
      for (let j = n - 2; j >= 0; j--) u[j] = block(this.up!.at(j), [level(j), u[j + 1]!]);
      d = [u[0]!];
      for (let j = 1; j < n; j++) {
        d[j] = block(this.down!.at(j - 1), [u[j]!, d[j - 1]!]);
        // As in forward: u_j was needed only for d_j (u_{n-1} is a level, the caller's).
        if (j < n - 1) for (const t of [u[j]!.t, u[j]!.s!]) t.dispose();
      }
    }
    // Every d_j was made by a Block here, so it has its scales and nothing else reads it.
    return levels.map((l, j) => {
      const { t, s } = d[j]!;
      scaleAddInPlace(t, s!, l);
      s!.dispose();
      return t;
    });
  }
}
