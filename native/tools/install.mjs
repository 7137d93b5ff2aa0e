#!/usr/bin/env node
// npm's install hook. Uses a prebuilt binary from prebuilds/ when one loads on this machine
// (found by node-gyp-build), otherwise compiles the addon with cmake-js.
// MPFNET_BUILD_FROM_SOURCE=1 forces a compile.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function prebuiltLoads() {
  try {
    const nodeGypBuild = require('node-gyp-build');
    const file = nodeGypBuild.path(root);
    require(file);
    console.log(`mpfnet: using ${file}`);
    return true;
  } catch {
    return false;
  }
}

if (!process.env.MPFNET_BUILD_FROM_SOURCE && prebuiltLoads()) process.exit(0);

console.log('mpfnet: no prebuilt binary fits this machine; compiling the addon with cmake-js');
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const r = spawnSync(process.execPath, [cmakeJs, 'rebuild'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    'mpfnet: building the native addon failed. It needs cmake >= 3.18 and a C++17 compiler (g++ >= 9 or clang >= 10);\n' +
      'on Debian/Ubuntu: apt-get install cmake g++. Then run `npm rebuild mpfnet`.',
  );
  process.exit(r.status ?? 1);
}
