// npm run bench [-- <group>...] [--quick]: runs every bench/<group>.bench.ts (or the named groups)
// and writes bench/results/<group>.json. See bench/harness.ts.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runGroup, type BenchCase } from './harness.js';

interface BenchModule {
  group: string;
  cases(): BenchCase[];
  /** Modules with their own driver (end-to-end benches) export run() instead of cases(). */
  run?(o: { quick: boolean }): Promise<void>;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const wanted = args.filter((a) => !a.startsWith('--'));
const here = dirname(fileURLToPath(import.meta.url));
// A bench file's name is its group (conv2d.bench.ts -> 'conv2d'): filter before importing, so one
// broken bench file does not stop the others from running.
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => !wanted.length || wanted.includes(f.slice(0, -'.bench.js'.length)))
  .sort();
for (const f of files) {
  const m = (await import(pathToFileURL(join(here, f)).href)) as BenchModule;
  if (m.run) await m.run({ quick });
  else await runGroup(m.group, m.cases(), quick ? { timeMs: 200, iterations: 3 } : { timeMs: 1000, iterations: 10 });
}
