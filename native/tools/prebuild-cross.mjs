#!/usr/bin/env node
// Cross-compiles the addon for another Linux architecture and places it where node-gyp-build looks
// for it, as `npm run prebuild` (prebuildify) does for the host:
//   node native/tools/prebuild-cross.mjs [arm64]      (npm run prebuild:arm64)
// builds in build-<arch>/ with cmake-js and native/tools/toolchain-linux-<arch>.cmake, strips the result and
// writes prebuilds/linux-<arch>/mpfnet.glibc.node (the name prebuildify --napi --tag-libc gives).
// The addon is Node-API 9, so the (arch-independent) node-api-headers are all it needs from Node.
// The CUDA plugin is not built for arm64 (MPFNET_CUDA=OFF): prebuilds never ship it.
// Needs Debian's g++-aarch64-linux-gnu (or crossbuild-essential-arm64) and cmake. JOBS=<n> limits
// the parallel compile (default: all cores).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, renameSync, copyFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { elfMachine } from './elf.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'package.json'));

/** What each supported target needs: the compilers' prefix and the ELF e_machine value of its binaries. */
const TARGETS = {
  arm64: { prefix: 'aarch64-linux-gnu-', elfMachine: 183, debianPackage: 'g++-aarch64-linux-gnu' },
};

/** @param {string} message @returns {never} */
function fail(message) {
  console.error(`prebuild-cross: ${message}`);
  process.exit(1);
}

const arch = process.argv[2] ?? 'arm64';
const target = Object.hasOwn(TARGETS, arch) ? TARGETS[/** @type {keyof typeof TARGETS} */ (arch)] : undefined;
if (!target) fail(`unknown target architecture "${arch}" (known: ${Object.keys(TARGETS).join(', ')})`);
if (process.platform !== 'linux') fail(`cross-compiling is only set up on Linux hosts (this is ${process.platform})`);
const cxx = `${target.prefix}g++`;
if (spawnSync(cxx, ['--version']).status !== 0) {
  fail(`the cross compiler ${cxx} is missing; on Debian/Ubuntu: apt-get install ${target.debianPackage}`);
}

const toolchain = join(root, 'native', 'tools', `toolchain-linux-${arch}.cmake`);
const out = join(root, `build-${arch}`);
const jobs = String(Math.max(1, Number(process.env.JOBS) || availableParallelism()));
const started = Date.now();
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const args = [cmakeJs, 'build', '--directory', root, '--out', out, '--parallel', jobs,
  `--CDCMAKE_TOOLCHAIN_FILE=${toolchain}`, '--CDCMAKE_BUILD_TYPE=Release'];
if (process.env.MPFNET_CROSS_VERBOSE) args.push('--log-level', 'verbose');
const r = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, MPFNET_CUDA: 'OFF' },
});
if (r.error) fail(`cannot run cmake-js: ${r.error.message}`);
if (r.status !== 0) fail(`cmake-js exited with ${r.status ?? r.signal} (build folder ${relative(root, out)})`);

const built = join(out, 'Release', 'mpfnet.node');
if (!existsSync(built)) fail(`the build did not produce ${relative(root, built)}`);
if (elfMachine(built) !== target.elfMachine) {
  fail(`${relative(root, built)} is not a ${arch} ELF binary (e_machine ${elfMachine(built)}, expected ${target.elfMachine})`);
}

// Strip a copy, then rename it into place, so a half-written binary is never picked up.
const destDir = join(root, 'prebuilds', `linux-${arch}`);
mkdirSync(destDir, { recursive: true });
const dest = join(destDir, 'mpfnet.glibc.node');
const tmp = `${dest}.${process.pid}.tmp`;
copyFileSync(built, tmp);
const strip = spawnSync(`${target.prefix}strip`, ['--strip-all', tmp], { stdio: 'inherit' });
if (strip.status !== 0) {
  rmSync(tmp, { force: true });
  fail(`${target.prefix}strip failed on ${relative(root, built)}`);
}
renameSync(tmp, dest);
console.log(`prebuild-cross: wrote ${relative(root, dest)} (linux-${arch}, glibc) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
