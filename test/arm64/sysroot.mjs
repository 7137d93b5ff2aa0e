#!/usr/bin/env node
// Builds the arm64 root folder the emulation check runs in: Debian bookworm's nodejs:arm64 (Node 18,
// enough for Node-API 9) and the shared libraries it needs, unpacked with `apt-get download` + `dpkg -x`
// into build-arm64/sysroot (git-ignored), never installed over the host's Node. test/arm64/check.mjs then
// runs `qemu-aarch64 -L build-arm64/sysroot build-arm64/sysroot/usr/bin/node`.
//   node test/arm64/sysroot.mjs [--dir <folder>] [--force]
// Needs apt's arm64 package lists (as root: dpkg --add-architecture arm64 && apt-get update); when they
// are missing it says so and exits with 2. Reuses a finished sysroot (its .complete marker) unless --force.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const dirArg = argv.indexOf('--dir');
const sysroot = resolve(dirArg >= 0 ? argv[dirArg + 1] ?? '' : join(root, 'build-arm64', 'sysroot'));
const force = argv.includes('--force');
const marker = join(sysroot, '.complete');

/** The packages pulled in: the arm64 Node and the libraries its binaries link. */
const ROOTS = ['nodejs:arm64'];
// Debian's Node loads a few of its bundled JavaScript dependencies from /usr/share/nodejs (acorn,
// cjs-module-lexer for `import` of CommonJS, undici for fetch): architecture-independent packages
// that `apt-cache depends` shows as virtual `<name:arm64>` entries; their providers are taken too.
// Only library-like packages are followed, so dpkg, perl and debconf stay out.
const FOLLOW = /^(lib|node-|nodejs|zlib1g|gcc-\d+-base)/;

function fail(message, code = 1) {
  console.error(`arm64 sysroot: ${message}`);
  process.exit(code);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) fail(`cannot run ${cmd}: ${r.error.message}`);
  return r;
}

/**
 * Direct Depends/Pre-Depends of several packages (one apt-cache call: each call loads apt's cache, which
 * takes seconds), as names apt-get download accepts.
 */
function dependsOf(pkgs) {
  const r = run('apt-cache', ['depends', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks',
    '--no-replaces', '--no-enhances', ...pkgs]);
  if (r.status !== 0) fail(`apt-cache depends ${pkgs.join(' ')} failed: ${r.stderr.trim()}`);
  const out = [];
  let virtual = false;
  for (const line of r.stdout.split('\n')) {
    const dep = /^\s+(?:Pre)?Depends:\s+(<)?([^<>\s]+)>?/.exec(line);
    if (dep) {
      virtual = Boolean(dep[1]);
      if (!virtual) out.push(dep[2]);
      continue;
    }
    // The first provider listed under a virtual dependency.
    const provider = /^ {4}(\S+)$/.exec(line);
    if (provider && virtual) {
      out.push(provider[1]);
      virtual = false;
    } else if (!/^\s/.test(line)) virtual = false;
  }
  return out;
}

/**
 * Whether a dependency belongs in the sysroot: arm64 libraries, and Node's architecture-independent
 * JavaScript packages (node-*). A bare name other than node-* is a host (amd64) package that an
 * architecture-independent package depends on (nodejs, libc6): never wanted.
 */
function follow(pkg) {
  const [name, arch] = pkg.split(':');
  if (arch === 'arm64') return FOLLOW.test(name);
  return arch === undefined && name.startsWith('node-');
}

if (existsSync(marker) && !force) {
  console.log(`arm64 sysroot: ${relative(root, sysroot)} is ready (--force rebuilds it)`);
  process.exit(0);
}
for (const tool of ['apt-get', 'apt-cache', 'dpkg']) {
  if (run('sh', ['-c', `command -v ${tool}`]).status !== 0) fail(`${tool} is missing (a Debian or Ubuntu host is needed)`, 2);
}
const policy = run('apt-cache', ['policy', 'nodejs:arm64']);
if (policy.status !== 0 || !/Candidate:\s+\d/.test(policy.stdout)) {
  fail('apt knows no nodejs:arm64; as root run: dpkg --add-architecture arm64 && apt-get update', 2);
}

const wanted = new Set();
let level = ROOTS;
while (level.length) {
  level.forEach((p) => wanted.add(p));
  level = [...new Set(dependsOf(level))].filter((p) => follow(p) && !wanted.has(p));
}

// Download into a scratch folder next to the sysroot, unpack, then rename into place: a sysroot is
// either complete (with its marker) or absent.
mkdirSync(dirname(sysroot), { recursive: true });
const scratch = mkdtempSync(`${sysroot}.tmp-`);
const debs = join(scratch, 'debs');
const tree = join(scratch, 'root');
mkdirSync(debs);
mkdirSync(tree);
const list = [...wanted].sort();
console.log(`arm64 sysroot: downloading ${list.length} packages: ${list.join(' ')}`);
const dl = run('apt-get', ['download', ...list], { cwd: debs });
if (dl.status !== 0) {
  rmSync(scratch, { recursive: true, force: true });
  fail(`apt-get download failed:\n${dl.stderr.trim()}`);
}
for (const deb of readdirSync(debs).filter((f) => f.endsWith('.deb'))) {
  const x = run('dpkg', ['-x', join(debs, deb), tree]);
  if (x.status !== 0) {
    rmSync(scratch, { recursive: true, force: true });
    fail(`dpkg -x ${deb} failed: ${x.stderr.trim()}`);
  }
}
if (!existsSync(join(tree, 'usr', 'bin', 'node')) && !existsSync(join(tree, 'usr', 'bin', 'nodejs'))) {
  rmSync(scratch, { recursive: true, force: true });
  fail('the unpacked packages hold no usr/bin/node');
}
writeFileSync(join(tree, '.complete'), list.join('\n') + '\n');
rmSync(sysroot, { recursive: true, force: true });
renameSync(tree, sysroot);
rmSync(scratch, { recursive: true, force: true });
console.log(`arm64 sysroot: ready in ${relative(root, sysroot)}`);
