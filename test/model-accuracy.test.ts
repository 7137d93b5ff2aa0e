// The fast convolution algorithms (Winograd, implicit GEMM: native/cpu/conv2d*.cc) against the
// direct convolution path on the whole default ×4 MPF-Net: the float32 forward pass must stay
// within 1e-4 of the float64 direct loops (relative, each element judged against the larger of
// its own size and the output's rms), and the float32 gradients of a training step within 1e-4
// (relative to each parameter's gradient norm). Forcing F(4x4, 3x3) everywhere shows why the
// automatic choice keeps it out of the forward pass.
import { describe, expect, it } from 'vitest';
import * as mp from '../lib/index.js';
import { MPFNet, createModel } from '../lib/models/mpfnet/mpfnet.js';

function rms(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s / v.length);
}

/**
 * max |a - b| / max(|b|, floor * rms(b)): relative error that does not blow up where b crosses
 * zero (floor 1: judged against the output's typical size; 0.01: nearly elementwise, as the
 * PyTorch golden test judges its samples).
 */
function elementError(a: ArrayLike<number>, b: ArrayLike<number>, floorScale = 1): number {
  const floor = rms(b) * floorScale;
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), floor));
  return worst;
}

/** |a - b| / |b| over the whole vector. */
function normError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    e += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(e / n);
}

function withAlgo<T>(algo: mp.ConvAlgorithm, fn: () => T): T {
  const before = mp.setConvAlgorithm(algo);
  try {
    return fn();
  } finally {
    mp.setConvAlgorithm(before);
  }
}

describe('MPF-Net through the fast convolution algorithms vs the direct path', () => {
  const model32 = createModel({ scale: 4 }, { seed: 7 });
  const model64 = new MPFNet({ scale: 4 }, { dtype: 'float64', generator: new mp.Generator(0) }).loadStateDict(model32.stateDict());
  const x32 = mp.rand([1, 3, 20, 20], { generator: new mp.Generator(8) });
  const x64 = x32.astype('float64');

  it('forward: float32 within 1e-4 of the float64 direct loops', () => {
    const ref = withAlgo('direct', () => mp.noGrad(() => mp.tidy(() => model64.forward(x64).toFloat64Array())));
    const report: string[] = [];
    const errors = new Map<string, number>();
    for (const algo of ['auto', 'gemm', 'winograd2', 'winograd'] as const) {
      const out = withAlgo(algo, () => mp.noGrad(() => mp.tidy(() => model32.forward(x32).toFloat32Array())));
      const e = elementError(out, ref);
      errors.set(algo, e);
      report.push(`${algo}: element ${e.toExponential(2)} (floor 1% rms: ${elementError(out, ref, 0.01).toExponential(2)}), norm ${normError(out, ref).toExponential(2)}`);
    }
    console.log(`MPF-Net ×4 forward, float32 vs float64 direct: ${report.join('; ')}`);
    expect(errors.get('auto')!).toBeLessThan(1e-4);
    expect(errors.get('gemm')!).toBeLessThan(1e-4);
    expect(errors.get('winograd2')!).toBeLessThan(1e-4);
  });

  it('training gradients: float32 within 1e-4 of the float64 direct loops', () => {
    const y32 = mp.rand([1, 3, 80, 80], { generator: new mp.Generator(9) });
    const y64 = y32.astype('float64');
    const grads = (m: MPFNet, x: mp.Tensor, y: mp.Tensor): Map<string, Float64Array> => {
      mp.tidy(() => mp.l1Loss(m.forward(x), y).backward());
      const out = new Map<string, Float64Array>();
      for (const [name, p] of m.namedParameters()) {
        out.set(name, Float64Array.from(p.grad!.dtype === 'float64' ? p.grad!.toFloat64Array() : p.grad!.toFloat32Array()));
        p.grad!.dispose();
        p.grad = null;
      }
      return out;
    };
    const ref = withAlgo('direct', () => grads(model64, x64, y64));
    const got = withAlgo('auto', () => grads(model32, x32, y32));
    let worst = 0;
    let worstName = '';
    for (const [name, g] of got) {
      const e = normError(g, ref.get(name)!);
      if (e > worst) [worst, worstName] = [e, name];
    }
    console.log(`MPF-Net ×4 training step, float32 (auto) vs float64 direct: worst gradient ${worstName} ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
    y32.dispose();
    y64.dispose();
  });
});
