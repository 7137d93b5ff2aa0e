// The training log of ranks other than 0: rank 0 alone writes train.jsonl (the same file on a
// shared filesystem), the others keep the interface and write nothing.
import { JsonlLog, type LogEntry } from '../train/log.js';

/** A JsonlLog that never writes (ranks other than 0). */
export class SilentLog extends JsonlLog {
  override append(_entry: LogEntry): void {}
  override truncateAfter(_iteration: number): void {}
  override clear(): void {}
}
