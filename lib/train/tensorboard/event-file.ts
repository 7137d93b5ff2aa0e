// A tfevents file: TFRecord framing around serialised Event protos, one record per event:
//   uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes | data | uint32 masked CRC-32C of data.
// The file is only ever appended to; the first event names the format version ("brain.Event:2",
// which makes TensorBoard honour SessionLog.START for runs that resume after a crash).
import { closeSync, fdatasyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { maskedCrc32c } from './crc32c.js';
import { encodeEvent, type EventFields } from './schema.js';

/** The version string TensorFlow and TensorBoard write as a file's first event. */
export const FILE_VERSION = 'brain.Event:2';

let filesOpened = 0;

/** Frame `data` as one TFRecord (header, CRCs and all). */
export function encodeRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/**
 * One open `events.out.tfevents.<seconds>.<host>.<pid>.<n>` file in a folder. Writes go straight
 * to the OS (a crash loses at most the record being written, which readers skip as truncated);
 * flush() also asks the disk to keep them.
 */
export class EventFileWriter {
  /** The file's path. */
  readonly path: string;
  #fd: number | null;

  constructor(dir: string) {
    if (typeof dir !== 'string' || !dir) throw new TypeError(`EventFileWriter: the folder must be a non-empty string, got ${JSON.stringify(dir)}`);
    mkdirSync(dir, { recursive: true });
    const seconds = Math.floor(Date.now() / 1000);
    // TensorBoard reads a folder's files in name order: the time first, zero-padded as TensorFlow does.
    const name = `events.out.tfevents.${String(seconds).padStart(10, '0')}.${hostname()}.${process.pid}.${filesOpened++}`;
    this.path = join(dir, name);
    this.#fd = openSync(this.path, 'wx');
    this.write({ wall_time: Date.now() / 1000, step: 0, file_version: FILE_VERSION });
  }

  /** Append one event. */
  write(event: EventFields): void {
    if (this.#fd === null) throw new RangeError(`EventFileWriter: ${this.path} is closed`);
    const record = encodeRecord(encodeEvent(event));
    let done = 0;
    while (done < record.length) done += writeSync(this.#fd, record, done, record.length - done);
  }

  /** Make what was written durable. */
  flush(): void {
    if (this.#fd !== null) fdatasyncSync(this.#fd);
  }

  /** Flush and close (again: nothing). */
  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#fd === null;
  }
}
