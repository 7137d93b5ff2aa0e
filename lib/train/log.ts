// The training log: one JSON object per line (train.jsonl), appended as training goes. On resume
// the lines after the checkpoint's iteration are dropped first (atomically), so the log of a
// resumed run reads like the log of an uninterrupted one.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic-write.js';

export interface LogEntry {
  iteration: number;
  [key: string]: unknown;
}

export class JsonlLog {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  append(entry: LogEntry): void {
    appendFileSync(this.path, JSON.stringify(entry) + '\n');
  }

  /** Every entry (lines that do not parse, e.g. one cut by a crash, are skipped). */
  read(): LogEntry[] {
    return readJsonl(this.path);
  }

  /** Keep only entries with iteration <= `iteration`. */
  truncateAfter(iteration: number): void {
    if (!existsSync(this.path)) return;
    const kept = this.read().filter((e) => e.iteration <= iteration);
    writeFileAtomicSync(this.path, kept.map((e) => JSON.stringify(e) + '\n').join(''));
  }

  /** Start empty (a fresh run in a folder that has an old log). */
  clear(): void {
    writeFileAtomicSync(this.path, '');
  }
}

export function readJsonl(path: string): LogEntry[] {
  if (!existsSync(path)) return [];
  const out: LogEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as LogEntry;
      if (typeof v.iteration === 'number') out.push(v);
    } catch {
      /* a line cut short by a crash */
    }
  }
  return out;
}
