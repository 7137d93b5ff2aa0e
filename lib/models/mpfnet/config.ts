// The MPF-Net model config (docs/model.md §1). Ablations are values, not forks: `mpfe` lists the branches'
// (kernel, dilation), `crossFusion: false` replaces the cross-perception pathways by one block per
// branch. Validation is strict: unknown fields and bad values are rejected naming the field.
import { ConfigError, boolean, fail, integer, isPlainObject, oneOf, rejectUnknown } from '../../util/validate.js';

/** The MPF-Net model config (docs/model.md §1). */
export interface MPFNetConfig {
  /** Upscaling factor. */
  scale: 2 | 3 | 4;
  /** Feature channels C. */
  channels: number;
  /** Number of cross-perception blocks. */
  nCpb: number;
  /** (kernel, dilation) of each multi-perception branch; padding keeps the size. */
  mpfe: [number, number][];
  /** Squeeze-excitation reduction: hidden width max(⌊C / r⌋, 4). */
  seReduction: number;
  /** Cross-perception pathways (true) or independent branches (false, Table V's ablation). */
  crossFusion: boolean;
}

/** The default ×4 model: C = 52, ten blocks, five branches. */
export const DEFAULT_CONFIG: Readonly<MPFNetConfig> = Object.freeze({
  scale: 4,
  channels: 52,
  nCpb: 10,
  mpfe: [[1, 1], [3, 1], [3, 3], [3, 6], [3, 9]] as [number, number][],
  seReduction: 16,
  crossFusion: true,
});

const FIELDS = ['scale', 'channels', 'nCpb', 'mpfe', 'seReduction', 'crossFusion'] as const;

/** A model config with any fields left out (they take the defaults). */
export type MPFNetConfigInput = Partial<MPFNetConfig>;

/** A full, validated copy of `input` with defaults filled in. `where` prefixes error messages. */
export function resolveModelConfig(input: unknown = {}, where = 'model config'): MPFNetConfig {
  if (!isPlainObject(input)) throw new ConfigError(`${where}: must be an object, got ${JSON.stringify(input)}`);
  rejectUnknown(input, FIELDS, where);
  const d = DEFAULT_CONFIG;
  const at = (k: string) => `${where}: '${k}'`;
  const scale = oneOf(input.scale ?? d.scale, [2, 3, 4] as const, at('scale'));
  const channels = integer(input.channels ?? d.channels, at('channels'), 1, 4096);
  const nCpb = integer(input.nCpb ?? d.nCpb, at('nCpb'), 0, 1000);
  const seReduction = integer(input.seReduction ?? d.seReduction, at('seReduction'), 1, 4096);
  const crossFusion = boolean(input.crossFusion ?? d.crossFusion, at('crossFusion'));
  const rawMpfe = input.mpfe ?? d.mpfe;
  if (!Array.isArray(rawMpfe) || rawMpfe.length < 2 || rawMpfe.length > 16) fail(at('mpfe'), `must be a list of 2 to 16 [kernel, dilation] pairs, got ${JSON.stringify(rawMpfe)}`);
  const mpfe = rawMpfe.map((p, i): [number, number] => {
    if (!Array.isArray(p) || p.length !== 2) fail(`${at('mpfe')}[${i}]`, `must be a [kernel, dilation] pair, got ${JSON.stringify(p)}`);
    const k = integer(p[0], `${at('mpfe')}[${i}][0] (kernel)`, 1, 15);
    if (k % 2 === 0) fail(`${at('mpfe')}[${i}][0] (kernel)`, `must be odd so padding keeps the size, got ${k}`);
    const dil = integer(p[1], `${at('mpfe')}[${i}][1] (dilation)`, 1, 64);
    return [k, dil];
  });
  return { scale, channels, nCpb, mpfe, seReduction, crossFusion };
}

/** The config as the JSON string stored in checkpoints' __metadata__.config. */
export function configToJson(c: MPFNetConfig): string {
  return JSON.stringify({ scale: c.scale, channels: c.channels, nCpb: c.nCpb, mpfe: c.mpfe, seReduction: c.seReduction, crossFusion: c.crossFusion });
}
