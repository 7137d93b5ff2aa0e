// conv2d (native/cpu/conv2d*.cc) at MPF-Net's shapes: C = 52 -> 52 3x3 with dilation 1/3/6/9
// (padding = dilation), the 1x1 fuse conv over five 52-channel parts (260 -> 52) and the CPB's c1
// over two parts (104 -> 52); 48x48 and 128x128, batch 1 and 8; forward, backward-data (the input
// gradient) and backward-weight (the weight gradient), each timed alone. GFLOP/s = 2 * MACs / time
// (the direct convolution's count); "% fp32 peak" counts the real arithmetic (Winograd: fewer).
// The peer (bench/peers/pytorch_conv2d.py) convolves torch.cat(parts) and times the backward
// passes with aten::convolution_backward, the call autograd makes.
// For the Block's c1 shapes (3x3 d1 52->52 and 104->52) two more forward rows: 'forward+selu'
// (SELU fused into the convolution's output, conv2d's activation option) and 'forward,selu'
// (the convolution, then the unary SELU over its output: what the fusion saves); the peer runs
// F.selu(F.conv2d(...), inplace=True) for both (PyTorch's CPU convolution has no fused epilogue).
// For the 3x3 layers one more: 'forward@fp32', the forward at the 'fp32' inference precision (the
// upscaler's): F(8x8) Winograd with AVX-512 or AVX2 on planes 128 columns wide, else F(6x6) from 16 MB of
// input, else F(4x4); the dilated ones on their sub-lattices with those tiles where each lattice is
// 16 pixels or more (native/cpu/conv2d_lattice.cc). The peer's forward is its only one.
import { native } from '../bindings/index.js';
import type { Handle } from '../bindings/native.js';
import { randn, type Tensor } from '../lib/index.js';
import type { BenchCase } from './harness.js';

export const group = 'conv2d';

type Pass = 'forward' | 'backward-data' | 'backward-weight' | 'forward+selu' | 'forward,selu' | 'forward@fp32';
const PASSES: Pass[] = ['forward', 'backward-data', 'backward-weight'];

interface Layer {
  label: string;
  parts: number[];
  cout: number;
  k: number;
  d: number;
}

function layers(): Layer[] {
  const out: Layer[] = [1, 3, 6, 9].map((d) => ({ label: `3x3 d${d}`, parts: [52], cout: 52, k: 3, d }));
  out.push({ label: 'fuse 1x1 5x52->52', parts: [52, 52, 52, 52, 52], cout: 52, k: 1, d: 1 });
  out.push({ label: 'cpb c1 3x3 2x52->52', parts: [52, 52], cout: 52, k: 3, d: 1 });
  return out;
}

// The Winograd tile size auto mode picks for this layer and pass (mirrors conv2d_algo in
// native/cpu/conv2d.cc: 3x3, stride 1, dilation 1; forward F(4x4) where the layer keeps or
// narrows its channels (and writes more than 4), else F(2x2); data and weight F(4x4); the backward
// passes only from 16 channels), or 0 when the pass runs as a GEMM.
function winogradTile(l: Layer, cin: number, pass: Pass): number {
  if (l.k !== 3 || l.d !== 1) return 0;
  if (pass.startsWith('forward')) return cin >= l.cout && l.cout > 4 ? 4 : 2;
  if (pass === 'backward-data') return l.cout >= 16 ? 4 : 0;
  return cin >= 16 ? 4 : 0;
}

// The real multiply-adds of 'forward@fp32' (mirrors f8_pays, input_leaves_cache and lattice_pays in
// native/cpu/conv2d.cc): a dilated layer runs as d * d undilated convolutions on its lattices (the
// implicit GEMM, all of `macs`, below 16-pixel lattices); each undilated convolution of side s takes
// F(8x8) with AVX-512 or AVX2 from 128 columns, else F(6x6) when its input is 16 MB or more, else F(4x4).
function fp32Macs(l: Layer, batch: number, hw: number, macs: number): number {
  if (l.d > 1 && Math.floor(hw / l.d) < 16) return macs;
  const n = batch * l.d * l.d;  // convolutions of side s, batched
  const s = Math.ceil(hw / l.d);
  const cin = l.parts.reduce((a, b) => a + b, 0);
  const f8 = (native.simd() === 'avx512' || native.simd() === 'avx2') && s >= 128 && cin >= 16 && l.cout >= 16;
  const m = f8 ? 8 : n * cin * s * s * 4 >= 16 * 2 ** 20 ? 6 : 4;
  return n * Math.ceil(s / m) ** 2 * (m + 2) ** 2 * l.cout * cin;
}

function disposeAll(hs: (Handle | null)[] | null): void {
  for (const h of hs ?? []) if (h !== null) native.dispose(h);
}

export function cases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const batch of [1, 8]) {
    for (const hw of [48, 128]) {
      for (const l of layers()) {
        const selu = l.k === 3 && l.d === 1;  // the Block's c1 (SELU follows it)
        const extra: Pass[] = [];
        if (selu) extra.push('forward+selu', 'forward,selu');
        if (l.k === 3) extra.push('forward@fp32');
        for (const pass of [...PASSES, ...extra]) {
          const pad = l.k === 1 ? 0 : l.d;
          const cin = l.parts.reduce((a, b) => a + b, 0);
          const macs = batch * hw * hw * l.cout * cin * l.k * l.k;
          // Winograd F(m x m, 3x3) multiplies (m + 2)^2 transformed values per m x m output tile
          // and channel pair instead of 9 m^2: its real multiply-adds (transforms not counted).
          const m = winogradTile(l, cin, pass);
          const tiles = m ? batch * Math.ceil(hw / m) ** 2 : 0;
          const realMacs = pass === 'forward@fp32' ? fp32Macs(l, batch, hw, macs) : m ? tiles * (m + 2) ** 2 * l.cout * cin : macs;
          let xs: Tensor[] = [];
          let w: Tensor, b: Tensor, gy: Tensor;
          const st = [1, 1], pd = [pad, pad], dl = [l.d, l.d];
          out.push({
            group,
            name: `${l.label} ${pass} N${batch} ${hw}x${hw}`,
            params: { pass, batch, hw, parts: l.parts, cout: l.cout, k: l.k, dilation: l.d, padding: pad, winogradTile: m },
            flops: 2 * macs,
            realFlops: 2 * realMacs,
            setup: () => {
              xs = l.parts.map((c) => randn([batch, c, hw, hw]));
              w = randn([l.cout, cin, l.k, l.k], { std: 0.05 });
              b = randn([l.cout]);
              gy = randn([batch, l.cout, hw, hw]);
            },
            fn: () => {
              const hs = xs.map((x) => x.handle);
              if (pass === 'forward') {
                native.dispose(native.conv2dForward('cpu', hs, w.handle, b.handle, st, pd, dl));
              } else if (pass === 'forward+selu') {
                native.dispose(native.conv2dForward('cpu', hs, w.handle, b.handle, st, pd, dl, 'selu'));
              } else if (pass === 'forward@fp32') {
                const before = native.inferencePrecision('fp32');
                try {
                  native.dispose(native.conv2dForward('cpu', hs, w.handle, b.handle, st, pd, dl));
                } finally {
                  native.inferencePrecision(before);
                }
              } else if (pass === 'forward,selu') {
                const y = native.conv2dForward('cpu', hs, w.handle, b.handle, st, pd, dl);
                native.dispose(native.unaryForward('cpu', 'selu', y, 0, 0));
                native.dispose(y);
              } else {
                const r = native.conv2dBackward('cpu', hs, w.handle, gy.handle, st, pd, dl, pass === 'backward-data', pass === 'backward-weight', false);
                disposeAll(r.gxs);
                disposeAll([r.gw, r.gb]);
              }
            },
            teardown: () => {
              for (const t of [...xs, w, b, gy]) t.dispose();
            },
          });
        }
      }
    }
  }
  return out;
}
