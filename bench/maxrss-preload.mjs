// Preloaded (node --import) into a child process by bench/upscale-rss.bench.ts: prints the
// process's peak resident set size (all threads, KiB) to stderr as it exits. On Linux from
// /proc/self/status VmHWM, the peak of this process image alone: getrusage's maxRSS survives
// fork + exec, so a child of a large parent would report the parent's size.
import { readFileSync } from 'node:fs';

function peakKiB() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS;
}

process.on('exit', () => process.stderr.write(`maxRSS ${peakKiB()}\n`));
