// MPF-Net's forward for inference with the least memory: the same arithmetic as
// MPFNet.forwardImage (test/upscale.test.ts checks they agree), but every intermediate is freed as
// soon as nothing needs it. MPFNet.forward inside one tidy() keeps every activation of the whole
// network alive until the scope ends (~880 MB for a 96×96 input of the default model); here the
// peak is a few feature maps (levels, the top-down and bottom-up paths, one block's internals).
import { noGrad, tidy } from '../autograd/scope.js';
import type { MPFNet } from '../models/mpfnet/mpfnet.js';
import type { Block } from '../models/mpfnet/block.js';
import type { CrossPerceptionBlock } from '../models/mpfnet/cpb.js';
import { add, clamp } from '../ops/index.js';
import type { Tensor } from '../tensor.js';

function disposeAll(ts: Iterable<Tensor>, except: Tensor | null = null): void {
  for (const t of ts) if (t !== except && !t.isDisposed) t.dispose();
}

/** One cross-perception block; the input levels stay alive (the caller owns them). */
function leanCpb(cpb: CrossPerceptionBlock, levels: Tensor[], check: () => void): Tensor[] {
  const n = cpb.branches;
  const block = (b: Block, xs: Tensor[]) => {
    const y = tidy(() => b.forward(xs));
    check();
    return y;
  };
  if (!cpb.crossFusion) {
    return levels.map((l, j) => {
      const d = block(cpb.branch!.at(j), [l]);
      const out = add(l, d);
      d.dispose();
      return out;
    });
  }
  const u: Tensor[] = new Array(n);
  u[n - 1] = levels[n - 1]!;
  for (let j = n - 2; j >= 0; j--) u[j] = block(cpb.up!.at(j), [levels[j]!, u[j + 1]!]);
  const d: Tensor[] = new Array(n);
  d[0] = u[0]!;
  for (let j = 1; j < n; j++) {
    d[j] = block(cpb.down!.at(j - 1), [u[j]!, d[j - 1]!]);
    // u_j was needed only for d_j (u_0 is d_0, kept until the sums below; u_{n-1} is a level).
    if (j < n - 1) u[j]!.dispose();
  }
  const out = levels.map((l, j) => add(l, d[j]!));
  disposeAll(d);
  return out;
}

/**
 * model.forwardImage(x) (clamped to [0, 1]) for inference, freeing intermediates early. `check`
 * runs after every block: it may throw (cancellation), and everything made so far is freed.
 */
export function leanForwardImage(model: MPFNet, x: Tensor, check: () => void = () => {}): Tensor {
  // Everything made here goes through one outer tidy, so an exception thrown by check() (or by an
  // op) frees whatever was live at that moment; on success only the output survives it.
  return noGrad(() =>
    tidy(() => {
      const h0 = model.head.forward(x);
      let levels = tidy(() => model.mpfe.forward(h0));
      check();
      for (const cpb of model.cpbs) {
        const next = leanCpb(cpb, levels, check);
        disposeAll(levels);
        levels = next;
      }
      const fused = tidy(() => model.body.forward(model.fuse.forward(levels)));
      disposeAll(levels);
      let y = add(fused, h0);
      fused.dispose();
      h0.dispose();
      for (const [conv, shuffle] of model.up.stages) {
        check();
        const prev = y;
        y = tidy(() => shuffle.forward(conv.forward(prev)));
        prev.dispose();
      }
      const out = clamp(model.tail.forward(y), 0, 1);
      y.dispose();
      return out;
    }),
  );
}
