// Flags and conventions every command shares.
import type { Command } from 'commander';
import { setNumThreads } from '../memory.js';

/** Documented exit codes (docs/cli.md). */
export const EXIT = { ok: 0, failure: 1, usage: 2, aborted: 130 } as const;

export interface CommandModule {
  /** Add the command to the program; call setExit to choose the process's exit code. */
  register(program: Command, setExit: (code: number) => void): void;
}

/** Adds --device and --threads to a command. */
export function withRuntimeOptions(cmd: Command): Command {
  return cmd
    .option('--device <device>', 'cpu, cuda or auto', 'auto')
    .option('--threads <n>', 'CPU threads (default: MPFNET_NUM_THREADS or all CPUs)');
}

/** Applies --threads; returns the device to use. */
export function applyRuntimeOptions(o: { device?: string; threads?: string }): 'cpu' | 'cuda' {
  if (o.threads !== undefined) {
    const n = Number(o.threads);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`--threads must be a positive integer, got ${o.threads}`);
    setNumThreads(n);
  }
  const d = o.device ?? 'auto';
  if (d !== 'cpu' && d !== 'cuda' && d !== 'auto') throw new RangeError(`--device must be cpu, cuda or auto, got ${d}`);
  return d === 'cuda' ? 'cuda' : 'cpu';
}

/** The exit-code line every command's --help ends with. */
export const EXIT_CODES_HELP = `Exit codes: ${EXIT.ok} ok, ${EXIT.failure} some work failed, ${EXIT.usage} bad usage or input, ${EXIT.aborted} interrupted.`;

/** The "Examples:" block (and optional notes) and the exit codes, for a command's --help. */
export function examplesHelp(examples: string[], notes = ''): string {
  const lines = examples.map((e) => `  $ ${e}`).join('\n');
  return `\nExamples:\n${lines}\n${notes ? `\n${notes}\n` : ''}\n${EXIT_CODES_HELP}`;
}

/** Adds examplesHelp() to a command's --help. */
export function withExamples(cmd: Command, examples: string[], notes = ''): Command {
  return cmd.addHelpText('after', examplesHelp(examples, notes));
}

/**
 * An optional numeric flag: undefined stays undefined; anything else must be a finite number
 * (a safe integer when `integer`), else a RangeError naming the flag and the value.
 */
export function numberFlag(v: string | undefined, flag: string, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) throw new RangeError(`${flag} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`);
  return n;
}

/** An integer flag written in decimal digits, at least `min`; a RangeError naming the flag otherwise. */
export function integerFlag(v: string, flag: string, min = -Infinity): number {
  const n = Number(v);
  if (!/^\s*-?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) {
    throw new RangeError(`${flag} must be an integer${min > -Infinity ? ` >= ${min}` : ''}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Seconds as "mm:ss" or "h:mm:ss" for progress lines; "--:--" when unknown (Infinity, NaN). */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
