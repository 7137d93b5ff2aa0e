#!/usr/bin/env node
// npm's install hook. Uses a prebuilt binary from prebuilds/ when one loads on this machine (found by
// node-gyp-build, as the loader in bindings/index.ts finds it), otherwise compiles the addon with
// cmake-js into build/Release. MPFNET_BUILD_FROM_SOURCE=1 forces a compile.
// The compiler's output is kept back unless the build fails (or npm runs with --loglevel verbose),
// so a normal install prints two lines. Without a usable binary and without cmake or a C++ compiler,
// it stops with one message naming the platform and the two ways out (docs/platforms.md).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** @param {string | undefined} v */
const truthy = (v) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';

/** The path of a binary node-gyp-build would pick and that loads here, or null. */
function loadableBinary() {
  /** @type {string} */
  let file;
  try {
    // require() is untyped: the JSDoc type states the one function of node-gyp-build used here.
    /** @type {{ path(dir: string): string }} */
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
    const nodeGypBuild = require('node-gyp-build');
    file = nodeGypBuild.path(root);
  } catch {
    return null; // none for this platform, arch and libc
  }
  try {
    require(file);
    return file;
  } catch (e) {
    // Typically a prebuilt binary that needs a newer glibc than this machine has.
    console.log(`mpfnet: ${relative(root, file)} does not load here (${String(e instanceof Error ? e.message : e).split('\n')[0]})`);
    return null;
  }
}

if (!truthy(process.env.MPFNET_BUILD_FROM_SOURCE)) {
  const file = loadableBinary();
  if (file) {
    console.log(`mpfnet: using the native addon ${relative(root, file)}`);
    process.exit(0);
  }
}

/**
 * Whether an executable of this name is on PATH (with Windows' extensions there).
 * @param {string} name
 */
function onPath(name) {
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      try {
        accessSync(join(dir, name + ext), constants.X_OK);
        return true;
      } catch {
        /* not here */
      }
    }
  }
  return false;
}

/** What a compile needs and this machine lacks: cmake, and a C++ compiler ($CXX, c++, g++ or clang++). */
function missingTools() {
  const missing = [];
  if (!onPath('cmake')) missing.push('cmake');
  // On Windows cmake-js finds Visual Studio by itself; elsewhere a compiler must be on PATH.
  if (process.platform !== 'win32') {
    const cxx = process.env.CXX?.trim().split(/\s+/)[0];
    const found = cxx ? existsSync(cxx) || onPath(cxx) : ['c++', 'g++', 'clang++'].some(onPath);
    if (!found) missing.push(cxx ? `the C++ compiler $CXX=${cxx}` : 'a C++17 compiler (c++, g++ or clang++)');
  }
  return missing;
}

/** The platforms this copy of the package has prebuilt binaries for, from prebuilds/<platform>-<arch>/. */
function prebuiltPlatforms() {
  try {
    return readdirSync(join(root, 'prebuilds'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && readdirSync(join(root, 'prebuilds', d.name)).some((f) => f.endsWith('.node')))
      .map((d) => `${d.name}${readdirSync(join(root, 'prebuilds', d.name)).some((f) => f.includes('.glibc.')) ? ' (glibc)' : ''}`);
  } catch {
    return [];
  }
}

const missing = missingTools();
if (missing.length) {
  const libc = process.platform === 'linux' ? (/** @type {{ header?: { glibcVersionRuntime?: string } }} */ (process.report?.getReport?.() ?? {}).header?.glibcVersionRuntime ? ', glibc' : ', musl') : '';
  const platforms = prebuiltPlatforms();
  console.error(
    `mpfnet: no prebuilt binary for ${process.platform}-${process.arch}${libc} (Node ${process.version}) and it cannot be ` +
      `compiled here: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing. Two ways out:\n` +
      '  1. install a compiler toolchain and cmake >= 3.18, then run `npm rebuild mpfnet`\n' +
      '     (Debian/Ubuntu: apt-get install cmake g++; Fedora: dnf install cmake gcc-c++; macOS: xcode-select --install\n' +
      '     and brew install cmake; Windows: Visual Studio Build Tools with C++ and cmake);\n' +
      `  2. or use a platform with a prebuilt binary: ${platforms.length ? platforms.join(', ') : 'none in this copy of the package'}.\n` +
      'See docs/platforms.md.',
  );
  process.exit(1);
}

const verbose = ['verbose', 'silly'].includes(process.env.npm_config_loglevel ?? '');
const started = Date.now();
console.log('mpfnet: compiling the native addon with cmake-js (this can take a minute)');
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const jobs = String(Math.max(1, Number(process.env.JOBS) || availableParallelism()));
const r = spawnSync(process.execPath, [cmakeJs, 'rebuild', '--parallel', jobs], {
  cwd: root,
  stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
});
if (r.status !== 0) {
  if (!verbose) process.stderr.write((r.stdout ?? '') + (r.stderr ?? ''));
  console.error(
    `\nmpfnet: building the native addon failed${r.error ? ` (${r.error.message})` : ''}. It needs cmake >= 3.18 and a\n` +
      'C++17 compiler (g++ >= 9 or clang >= 10); on Debian/Ubuntu: apt-get install cmake g++.\n' +
      'Then run `npm rebuild mpfnet`. See docs/building.md in the package.',
  );
  process.exit(r.status || 1);
}
try {
  require(join(root, 'build', 'Release', 'mpfnet.node'));
} catch (e) {
  console.error(`mpfnet: the freshly built addon does not load: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
console.log(`mpfnet: built build/Release/mpfnet.node in ${((Date.now() - started) / 1000).toFixed(0)} s`);
