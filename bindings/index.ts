// Loads the native addon once. Search order: $MPFNET_ADDON (a path to a .node file), then
// node-gyp-build's places (build/Release, build/Debug, prebuilds/<platform>-<arch>/). When all
// fail, one error lists every place tried and how to fix it, like sharp's loader.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeAddon } from './native.js';

export type { NativeAddon } from './native.js';

const require = createRequire(import.meta.url);

/** The package root: the nearest folder above this file whose package.json is mpfnet's. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: unknown }).name === 'mpfnet') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('mpfnet: cannot find the package root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

function load(): NativeAddon {
  const tried: string[] = [];
  const fromEnv = process.env.MPFNET_ADDON;
  if (fromEnv) {
    try {
      return require(fromEnv) as NativeAddon;
    } catch (e) {
      tried.push(`$MPFNET_ADDON=${fromEnv}: ${(e as Error).message}`);
    }
  }
  const root = packageRoot();
  try {
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    return nodeGypBuild(root) as NativeAddon;
  } catch (e) {
    tried.push(`node-gyp-build in ${root} (build/Release, build/Debug, prebuilds/${process.platform}-${process.arch}): ${(e as Error).message.split('\n')[0]}`);
  }
  throw new Error(
    'mpfnet: could not load the native addon.\n' +
      tried.map((t) => '  - ' + t).join('\n') +
      '\nTo fix it:\n' +
      '  - reinstall so a prebuilt binary is picked or the addon is compiled: npm install mpfnet\n' +
      '  - or build from source in the package folder: npm run build:native (needs cmake >= 3.18 and a C++17 compiler)\n' +
      `  - this process is Node ${process.version} on ${process.platform}-${process.arch}; the addon needs Node-API 9 (Node >= 18.17)`,
  );
}

/** The addon, loaded on first import. */
export const native: NativeAddon = load();
