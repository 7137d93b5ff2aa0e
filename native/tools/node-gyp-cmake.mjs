#!/usr/bin/env node
// A stand-in for node-gyp that builds with cmake-js, for prebuildify (which can only drive node-gyp):
//   prebuildify --napi --strip --tag-libc --node-gyp native/tools/node-gyp-cmake.mjs
// prebuildify spawns this file directly (no shell, so it must stay executable) in the package folder as
//   rebuild --target=<node version> --devdir=<tmp>/prebuildify/node --arch=<arch> --release
// and then takes the first *.node file in build/Release (build/Debug with --debug). cmake-js writes
// exactly there. The addon is Node-API, so --target and --devdir do not matter: cmake-js compiles
// against the node-api-headers package (package.json "binary.napi_versions"), with no download.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

/** @type {Record<string, string>} */
const COMMANDS = { rebuild: 'rebuild', configure: 'configure', build: 'build', clean: 'clean' };
// node-gyp commands that only manage downloaded headers: nothing to do for a Node-API build.
const NO_OPS = new Set(['install', 'list', 'remove']);
// node-gyp options that take a value when written as two words (`--target 20.0.0`).
const VALUED = new Set(['target', 'arch', 'devdir', 'nodedir', 'jobs', 'j', 'directory', 'C', 'runtime', 'dist-url',
  'python', 'loglevel', 'msvs_version', 'tarball', 'ensure', 'solution']);

/** @param {string} message @returns {never} */
function fail(message) {
  console.error(`node-gyp-cmake: ${message}`);
  process.exit(1);
}

/**
 * @param {string[]} argv
 * @returns {{ commands: string[], opts: Record<string, string | true | undefined> }}
 */
function parse(argv) {
  /** @type {string[]} */
  const commands = [];
  /** @type {Record<string, string | true | undefined>} */
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (!a.startsWith('-')) {
      commands.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    if (eq >= 0) {
      opts[body.slice(0, eq)] = body.slice(eq + 1);
    } else if (VALUED.has(body) && i + 1 < argv.length && !argv[i + 1]?.startsWith('-')) {
      opts[body] = argv[++i];
    } else {
      opts[body] = true;
    }
  }
  return { commands, opts };
}

const { commands, opts } = parse(process.argv.slice(2));
if (opts.help || opts.h || commands.length === 0) {
  console.log('usage: node-gyp-cmake.mjs <rebuild|configure|build|clean> [--release|--debug] [--jobs N] [--arch ARCH] [-C DIR]');
  process.exit(commands.length === 0 && !(opts.help || opts.h) ? 1 : 0);
}
if (opts.runtime && opts.runtime !== 'node') fail(`only the node runtime is supported, got --runtime=${opts.runtime}`);
// prebuildify cannot drive a cross build: refuse rather than label a host binary with another arch.
// Cross builds have their own script (native/tools/prebuild-cross.mjs, a cmake toolchain file).
if (opts.arch && opts.arch !== process.arch) {
  fail(`cross-compiling is not supported here (--arch=${opts.arch} on ${process.arch}); for linux-arm64 use npm run prebuild:arm64`);
}

const dir = resolve(String(opts.directory ?? opts.C ?? '.'));
const debug = Boolean(opts.debug || opts.d) && !opts.release;
const jobsOpt = opts.jobs ?? opts.j ?? process.env.JOBS;
const jobs = !jobsOpt || jobsOpt === true || jobsOpt === 'max' ? availableParallelism() : Number(jobsOpt);
if (!Number.isInteger(jobs) || jobs < 1) fail(`--jobs must be a positive integer or "max", got ${jobsOpt}`);

const require = createRequire(resolve(dir, 'package.json'));
let cmakeJs;
try {
  cmakeJs = require.resolve('cmake-js/bin/cmake-js');
} catch {
  fail(`cmake-js is not installed where ${dir} can find it (npm install first)`);
}

for (const command of commands) {
  if (NO_OPS.has(command)) continue;
  const cmd = COMMANDS[command];
  if (!cmd) fail(`unknown command "${command}" (expected rebuild, configure, build or clean)`);
  const args = [cmakeJs, cmd, '--directory', dir, '--out', resolve(dir, 'build'), '--parallel', String(jobs)];
  if (debug) args.push('--debug');
  if (opts.silent || opts.quiet) args.push('--silent');
  // Prebuilds never ship the CUDA plugin (it links the CUDA runtime and finds the cuDNN of the build
  // machine; docs/cuda.md), so skip its compile; nor the MPI plugin (it links the MPI of the machine it
  // runs on; docs/distributed-training.md), so a prebuilt binary never depends on one.
  const env = { ...process.env, MPFNET_CUDA: process.env.MPFNET_CUDA ?? 'OFF', MPFNET_MPI: 'OFF' };
  const r = spawnSync(process.execPath, args, { cwd: dir, stdio: 'inherit', env });
  if (r.error) fail(`cannot run cmake-js: ${r.error.message}`);
  if (r.status !== 0) process.exit(r.status ?? 1);
}
