// The one ELF fact the packaging scripts need: which machine a binary was built for.
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * The ELF e_machine field of a file (little-endian ELF: 62 x86-64, 183 AArch64), or -1 when it is
 * not an ELF file.
 * @param {string} file
 */
export function elfMachine(file) {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(20);
    if (readSync(fd, head, 0, 20, 0) < 20 || head.readUInt32BE(0) !== 0x7f454c46) return -1;
    return head.readUInt16LE(18);
  } finally {
    closeSync(fd);
  }
}
