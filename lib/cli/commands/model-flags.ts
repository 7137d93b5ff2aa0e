// Model-config flags shared by init and summary: --scale, --channels, --n-cpb, --mpfe,
// --se-reduction, --no-cross-fusion, or --model-config <json file>.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveModelConfig, type MPFNetConfig } from '../../models/mpfnet/config.js';
import { integerFlag } from '../common.js';

export interface ModelFlags {
  scale?: string;
  channels?: string;
  nCpb?: string;
  mpfe?: string;
  seReduction?: string;
  crossFusion?: boolean;
  modelConfig?: string;
}

export function withModelOptions(cmd: Command): Command {
  return cmd
    .option('--scale <s>', 'upscaling factor: 2, 3 or 4 (default 4)')
    .option('--channels <c>', 'feature channels (default 52)')
    .option('--n-cpb <n>', 'cross-perception blocks (default 10)')
    .option('--mpfe <list>', 'branches as kernel:dilation,... (default 1:1,3:1,3:3,3:6,3:9)')
    .option('--se-reduction <r>', 'squeeze-excitation reduction (default 16)')
    .option('--no-cross-fusion', 'independent branches instead of cross-perception pathways (ablation)')
    .option('--model-config <file>', 'model config as a JSON file (flags override its fields)');
}

/** The validated model config the flags describe. */
export function modelConfigFromFlags(o: ModelFlags): MPFNetConfig {
  let base: Record<string, unknown> = {};
  if (o.modelConfig) {
    try {
      base = JSON.parse(readFileSync(o.modelConfig, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new RangeError(`--model-config ${o.modelConfig}: ${(e as Error).message}`);
    }
  }
  const c: Record<string, unknown> = { ...base };
  if (o.scale !== undefined) c.scale = integerFlag(o.scale, '--scale');
  if (o.channels !== undefined) c.channels = integerFlag(o.channels, '--channels');
  if (o.nCpb !== undefined) c.nCpb = integerFlag(o.nCpb, '--n-cpb');
  if (o.seReduction !== undefined) c.seReduction = integerFlag(o.seReduction, '--se-reduction');
  if (o.crossFusion === false) c.crossFusion = false;
  if (o.mpfe !== undefined) {
    c.mpfe = o.mpfe.split(',').map((pair) => {
      const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(pair);
      if (!m) throw new RangeError(`--mpfe: expected kernel:dilation pairs separated by commas, got ${JSON.stringify(pair)}`);
      return [Number(m[1]), Number(m[2])];
    });
  }
  return resolveModelConfig(c, o.modelConfig ? o.modelConfig : 'model');
}
