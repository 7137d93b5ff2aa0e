// Atomic file writes: the data goes to a temporary file in the destination's own folder, which is
// then renamed over the destination. A rename within one file system is atomic, so readers see
// either the old file or the complete new one, never a half-written image or checkpoint, even if
// the process dies mid-write.
import { randomBytes } from 'node:crypto';
import { promises as fsp, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Write `data` to `path` atomically (temp file in the same folder + rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    const fh = await fsp.open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.unlink(tmp).catch(() => {});
    throw e;
  }
}

/** Synchronous writeFileAtomic, for exit paths that cannot await. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* the temp file was never created */
    }
    throw e;
  }
}

/**
 * Atomically create `path` with a writer that writes a file itself (an encoder writing straight
 * to disk, so the encoded bytes are never held in memory): `write` gets the temporary path, the
 * file is synced and renamed over `path` unless `write` or `beforeRename` throws, in which case
 * the temporary file is removed.
 */
export async function writeFileAtomicWith(path: string, write: (tmp: string) => Promise<unknown>, beforeRename?: () => void): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await write(tmp);
    const fh = await fsp.open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    beforeRename?.();
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.unlink(tmp).catch(() => {});
    throw e;
  }
}
