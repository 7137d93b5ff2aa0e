// MPF-Net as ONNX nodes, one emitter per module, mirroring MPFNet.forward (lib/models/mpfnet/):
//   Conv2d      -> Conv (pads, dilations: the dilated MPFE branches stay single Conv nodes)
//   Block       -> Concat, Conv, Selu, Conv, squeeze-excite
//   SE          -> GlobalAveragePool, Conv 1×1 (fc1), Relu, Conv 1×1 (fc2), Sigmoid, Mul
//   PixelShuffle-> DepthToSpace mode "CRD" (PyTorch's channel order; the default "DCR" is not it)
// The Linear layers of SE become 1×1 convolutions so the excitation stays (N, C, 1, 1) and
// broadcasts in Mul without Reshape/Flatten nodes.
import type { Block } from '../../models/mpfnet/block.js';
import type { CrossPerceptionBlock } from '../../models/mpfnet/cpb.js';
import type { MPFNet } from '../../models/mpfnet/mpfnet.js';
import type { Conv2d } from '../../nn/conv2d.js';
import type { Linear } from '../../nn/linear.js';
import type { SqueezeExcite } from '../../nn/squeeze-excite.js';
import type { GraphBuilder } from './graph-builder.js';

function conv(g: GraphBuilder, m: Conv2d, name: string, x: string): string {
  const w = g.weight(`${name}.weight`, m.weight.shape, m.weight.toFloat32Array());
  const inputs = [x, w];
  if (m.bias) inputs.push(g.weight(`${name}.bias`, m.bias.shape, m.bias.toFloat32Array()));
  const [ph, pw] = m.padding;
  return g.node('Conv', inputs, { kernel_shape: [...m.kernelSize], pads: [ph, pw, ph, pw], dilations: [...m.dilation], strides: [...m.stride] }, name);
}

/** A Linear (out, in) as a 1×1 Conv on (N, in, 1, 1). */
function linearAsConv(g: GraphBuilder, m: Linear, name: string, x: string): string {
  const [out, inp] = m.weight.shape as [number, number];
  const inputs = [x, g.weight(`${name}.weight`, [out, inp, 1, 1], m.weight.toFloat32Array())];
  if (m.bias) inputs.push(g.weight(`${name}.bias`, m.bias.shape, m.bias.toFloat32Array()));
  return g.node('Conv', inputs, { kernel_shape: [1, 1] }, name);
}

function squeezeExcite(g: GraphBuilder, m: SqueezeExcite, name: string, x: string): string {
  const pooled = g.node('GlobalAveragePool', [x], {}, `${name}.pool`);
  const h = g.node('Relu', [linearAsConv(g, m.fc1, `${name}.fc1`, pooled)], {}, `${name}.relu`);
  const s = g.node('Sigmoid', [linearAsConv(g, m.fc2, `${name}.fc2`, h)], {}, `${name}.sigmoid`);
  return g.node('Mul', [x, s], {}, `${name}.scale`);
}

function block(g: GraphBuilder, m: Block, name: string, xs: string[]): string {
  const x = xs.length === 1 ? xs[0]! : g.node('Concat', xs, { axis: 1 }, `${name}.concat`);
  const h = g.node('Selu', [conv(g, m.c1, `${name}.c1`, x)], {}, `${name}.selu`);
  return squeezeExcite(g, m.se, `${name}.se`, conv(g, m.c2, `${name}.c2`, h));
}

function crossPerceptionBlock(g: GraphBuilder, m: CrossPerceptionBlock, name: string, levels: string[]): string[] {
  const n = levels.length;
  if (!m.crossFusion) return levels.map((l, j) => g.node('Add', [l, block(g, m.branch!.at(j), `${name}.branch.${j}`, [l])], {}, `${name}.out.${j}`));
  const u = new Array<string>(n);
  u[n - 1] = levels[n - 1]!;
  for (let j = n - 2; j >= 0; j--) u[j] = block(g, m.up!.at(j), `${name}.up.${j}`, [levels[j]!, u[j + 1]!]);
  const d = new Array<string>(n);
  d[0] = u[0]!;
  for (let j = 1; j < n; j++) d[j] = block(g, m.down!.at(j - 1), `${name}.down.${j - 1}`, [u[j]!, d[j - 1]!]);
  return levels.map((l, j) => g.node('Add', [l, d[j]!], {}, `${name}.out.${j}`));
}

/** Emit the whole network from value `x`; returns the value of its (unclamped) output. */
export function emitMPFNet(g: GraphBuilder, model: MPFNet, x: string): string {
  const h0 = conv(g, model.head, 'head', x);
  let levels = [...model.mpfe].map((c, i) => conv(g, c, `mpfe.${i}`, h0));
  [...model.cpbs].forEach((cpb, i) => (levels = crossPerceptionBlock(g, cpb, `cpbs.${i}`, levels)));
  const cat = levels.length === 1 ? levels[0]! : g.node('Concat', levels, { axis: 1 }, 'fuse.concat');
  const body = conv(g, model.body, 'body', conv(g, model.fuse, 'fuse', cat));
  let y = g.node('Add', [body, h0], {}, 'residual');
  model.up.stages.forEach(([c, shuffle], i) => {
    y = g.node('DepthToSpace', [conv(g, c, `up.${2 * i}`, y)], { blocksize: shuffle.upscaleFactor, mode: 'CRD' }, `up.${2 * i + 1}`);
  });
  return conv(g, model.tail, 'tail', y);
}
