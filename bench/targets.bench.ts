// Issue 15's targets, read from the other groups' latest results (run those first:
// `npm run bench -- peak matmul conv2d train-step onnx upscale-rss`): each case's number, its
// target and whether it is met, as a Markdown table (README.md's performance section quotes it)
// and bench/results/targets.json. Reads only; measures nothing.
//
// npm run bench -- targets
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../bindings/index.js';
import { writeJsonAtomic } from './harness.js';

export const group = 'targets';

interface Target {
  case: string;
  value: number | null;
  /** How the value reads: a speed ratio, a percentage, GiB, dB. */
  unit: '×' | '%' | 'GiB' | 'dB';
  target: number;
  /** 'min': value ≥ target; 'max': value ≤ target. */
  kind: 'min' | 'max';
  source: string;
  date?: string;
}

function results(name: string): Record<string, unknown> | null {
  const path = join(packageRoot(), 'bench', 'results', `${name}.json`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : null;
}

const dateOf = (r: Record<string, unknown> | null) => ((r?.machine as { date?: string } | undefined)?.date ?? '').slice(0, 10);

export function collect(): Target[] {
  const out: Target[] = [];
  const onnx = results('onnx');
  const onnxRows = (onnx?.rows ?? []) as { runtime: string; size: number; medianMs: number }[];
  const ms = (runtime: string, size: number) => onnxRows.find((r) => r.runtime === runtime && r.size === size)?.medianMs ?? null;
  const ratio = (a: number | null, b: number | null) => (a && b ? b / a : null);
  const ort256 = ms('onnxruntime-node', 256);
  out.push({ case: 'inference 256², fp32 vs onnxruntime-node', value: ratio(ms('mpfnet (this engine), fp32', 256), ort256), unit: '×', target: 4, kind: 'min', source: 'onnx', date: dateOf(onnx) });
  out.push({ case: 'inference 256², bf16 vs onnxruntime-node fp32', value: ratio(ms('mpfnet (this engine), bf16', 256), ort256), unit: '×', target: 6, kind: 'min', source: 'onnx', date: dateOf(onnx) });
  const acc = onnx?.accuracy as { bf16VsFp32Db?: number | null } | undefined;
  if (acc?.bf16VsFp32Db) out.push({ case: '  bf16 output vs fp32, PSNR dB (trained weights)', value: acc.bf16VsFp32Db, unit: 'dB', target: 50, kind: 'min', source: 'onnx', date: dateOf(onnx) });
  const train = results('cpu-train-step');
  const rows = (train?.results ?? []) as { name: string; speedup: number }[];
  const speed = (name: string) => rows.find((r) => r.name === name)?.speedup ?? null;
  out.push({ case: 'inference 128², fp32 vs PyTorch', value: speed('inference b1 128x128 x4'), unit: '×', target: 6, kind: 'min', source: 'train-step', date: dateOf(train) });
  out.push({ case: 'training step batch 1, 48², vs PyTorch', value: speed('train step b1 48x48 x4'), unit: '×', target: 4, kind: 'min', source: 'train-step', date: dateOf(train) });
  out.push({ case: 'training step batch 4, 48², vs PyTorch', value: speed('train step b4 48x48 x4'), unit: '×', target: 4, kind: 'min', source: 'train-step', date: dateOf(train) });
  const conv = results('conv2d');
  // The passes of training and the strict forward, as when the target was set: the 'forward@fp32'
  // rows (the upscaler's larger tiles, whose transforms count as no arithmetic) are not in it.
  const cpb = ((conv?.results ?? []) as { name: string; pctFp32Peak?: number }[]).filter(
    (r) => (r.name.startsWith('cpb c1 3x3') || r.name.startsWith('3x3 d1 ')) && !r.name.includes('forward@fp32'),
  );
  const shares = cpb.map((r) => r.pctFp32Peak).filter((v): v is number => v !== undefined);
  out.push({ case: 'conv real arithmetic, share of fp32 peak (CPB 3×3, median)', value: shares.length ? shares.sort((a, b) => a - b)[Math.floor(shares.length / 2)]! : null, unit: '%', target: 70, kind: 'min', source: 'conv2d', date: dateOf(conv) });
  const mm = results('matmul');
  const sq = ((mm?.results ?? []) as { name: string; pctFp32Peak?: number }[]).find((r) => r.name === 'matmul square 1024 forward');
  out.push({ case: 'GEMM 1024², share of fp32 peak', value: sq?.pctFp32Peak ?? null, unit: '%', target: 70, kind: 'min', source: 'matmul', date: dateOf(mm) });
  const rss = results('upscale-rss');
  const rssRow = ((rss?.rows ?? []) as { size: number; peakRssGiB: number }[]).find((r) => r.size === 2048);
  out.push({ case: 'peak RSS, 2048² ×4 upscale (tile 192)', value: rssRow?.peakRssGiB ?? null, unit: 'GiB', target: 1.2, kind: 'max', source: 'upscale-rss', date: dateOf(rss) });
  return out;
}

const show = (t: Target, v: number) => (t.unit === '%' ? `${v.toFixed(1)}%` : t.unit === 'GiB' ? `${v.toFixed(2)} GiB` : t.unit === 'dB' ? `${v.toFixed(1)} dB` : `${v.toFixed(2)}×`);

export function markdown(ts: Target[]): string {
  const lines = ['| case (default ×4, 2 threads) | now | target | met |', '| --- | --- | --- | --- |'];
  for (const t of ts) {
    const met = t.value === null ? 'not measured' : (t.kind === 'min' ? t.value >= t.target : t.value <= t.target) ? 'yes' : 'no';
    lines.push(`| ${t.case.trim()} | ${t.value === null ? '–' : show(t, t.value)} | ${t.kind === 'min' ? '≥' : '≤'} ${show(t, t.target)} | ${met} |`);
  }
  return lines.join('\n');
}

export async function run(): Promise<void> {
  const ts = collect();
  console.log(`\n${group}: from bench/results (each row's source group and date in targets.json)\n`);
  console.log(markdown(ts));
  const path = join(packageRoot(), 'bench', 'results', `${group}.json`);
  writeJsonAtomic(path, { group, targets: ts });
  console.log(`\nwrote ${path}`);
}

// Allow `node dist/bench/targets.bench.js` directly as well as through run.ts.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await run();
