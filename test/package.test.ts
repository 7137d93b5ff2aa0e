// The published package, end to end, as a user gets it: a staging copy of the sources makes its prebuilt
// binary with `npm run prebuild` (prebuildify driving native/tools/node-gyp-cmake.mjs), `npm pack` packs it,
// and an empty project installs the tarball and uses it without compiling anything. The linux-arm64
// binary (`npm run prebuild:arm64`, a cross build) is packed next to it, under MPFNET_RELEASE=1 so the
// prepack check (native/tools/prepack-check.mjs) insists on both.
// Dependencies come from npm's cache (the `npm install` that preceded the tests filled it), so the test
// needs no network. MPFNET_KEEP_PACK_TMP=1 keeps the temporary folders for a look.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; files: string[] };
const PREBUILT = `prebuilds/${process.platform}-${process.arch}`;
const ARM64 = 'prebuilds/linux-arm64';

/**
 * The environment for the npm and node children: without the variables npm sets for the running script
 * (npm_config_local_prefix and friends would point npm back at this repository) and without the
 * suite's own addon override, so the children find the addon the way a user's process does.
 */
function childEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !keep.has(k.toLowerCase())) continue;
    if (k === 'MPFNET_ADDON' || k === 'MPFNET_BUILD_FROM_SOURCE' || k === 'INIT_CWD') continue;
    env[k] = v;
  }
  return env;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: { ...childEnv(), ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited with ${r.status ?? r.signal}${r.error ? `: ${r.error.message}` : ''}\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

const toolAvailable = (name: string) => spawnSync(name, ['--version'], { encoding: 'utf8' }).status === 0;

/** The object files of a cmake build folder by instruction set: 'avx2', 'avx512' or 'base'. */
function objectFiles(buildDir: string): Record<'base' | 'avx2' | 'avx512', string[]> {
  const out = { base: [] as string[], avx2: [] as string[], avx512: [] as string[] };
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.o')) out[(/_(avx2|avx512)(?:[a-z0-9]*)\.\w+\.o$/.exec(e.name)?.[1] as 'avx2' | 'avx512' | undefined) ?? 'base'].push(join(d, e.name));
    }
  };
  walk(join(buildDir, 'CMakeFiles'));
  return out;
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

describe('npm package', () => {
  let tmp = '';
  let stage = '';
  let app = '';
  let packed: PackResult;
  let installLog = '';
  let builtHere = false;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'mpfnet-pack-'));
    stage = join(tmp, 'stage');
    // The sources npm pack and prepare need: what package.json ships (less the build outputs, made
    // below) and the TypeScript sources that `prepare` compiles into dist/.
    const entries = new Set([...pkg.files.filter((f) => !f.startsWith('!') && !f.startsWith('dist') && f !== 'prebuilds'), 'package.json', 'tsconfig.json', 'README.md', 'LICENSE', 'lib', 'bindings']);
    for (const e of entries) if (existsSync(join(root, e))) cpSync(join(root, e), join(stage, e), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');

    if (existsSync(join(root, PREBUILT)) && readdirSync(join(root, PREBUILT)).some((f) => f.endsWith('.node'))) {
      // A prebuilt binary made earlier with `npm run prebuild`: pack that one, as a release would.
      cpSync(join(root, 'prebuilds'), join(stage, 'prebuilds'), { recursive: true });
    } else {
      run('npm', ['run', 'prebuild'], stage);
      builtHere = true;
    }

    // The arm64 binary: the one made earlier with `npm run prebuild:arm64` (CI does), else cross-built here.
    if (existsSync(join(root, ARM64, `${pkg.name}.glibc.node`))) {
      cpSync(join(root, ARM64), join(stage, ARM64), { recursive: true });
    } else {
      run('npm', ['run', 'prebuild:arm64'], stage);
    }

    const out = run('npm', ['pack', '--json', '--pack-destination', tmp], stage, { MPFNET_RELEASE: '1' }).stdout;
    packed = (JSON.parse(out.slice(out.indexOf('['))) as PackResult[])[0]!;

    // An empty project that installs the tarball, as a user would.
    app = join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'mpfnet-pack-check', version: '1.0.0', private: true, type: 'module' }));
    const r = run('npm', ['install', join(tmp, packed.filename), '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], app);
    installLog = r.stdout + r.stderr;
  }, 600_000);

  afterAll(() => {
    if (tmp && !process.env.MPFNET_KEEP_PACK_TMP) rmSync(tmp, { recursive: true, force: true });
  });

  it('the node-gyp stand-in is executable (prebuildify spawns it without a shell)', () => {
    const mode = statSync(join(root, 'native/tools/node-gyp-cmake.mjs')).mode;
    expect(mode & 0o111, 'git update-index --chmod=+x native/tools/node-gyp-cmake.mjs').not.toBe(0);
  });

  it('ships the prebuilt binary, the compiled JS, the CLI and the native sources, and nothing else', () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of [`${PREBUILT}/${pkg.name}.glibc.node`, `${ARM64}/${pkg.name}.glibc.node`, 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/bindings/index.js', 'bin/mpfnet.js',
      'native/tools/install.mjs', 'native/tools/node-gyp-cmake.mjs', 'native/addon/addon.cc', 'CMakeLists.txt', 'package.json', 'README.md'])
      expect(paths, p).toContain(p);
    const unwanted = paths.filter((p) => /^(test|bench|build|lib|bindings|node_modules)\//.test(p) || p.endsWith('.map') || p.endsWith('.ts') && !p.endsWith('.d.ts'));
    expect(unwanted).toEqual([]);
    // A guard against shipping build folders or data by accident (today: about 0.5 MB, mostly the binary).
    expect(packed.size).toBeLessThan(16 << 20);
  });

  it('installs from the tarball with the prebuilt binary, compiling nothing', () => {
    const installed = join(app, 'node_modules', pkg.name);
    // The install hook says which binary it found (unless npm was told to skip install scripts; the
    // prebuilt binary is found at load time all the same).
    if (/mpfnet: /.test(installLog)) expect(installLog).toMatch(new RegExp(`mpfnet: using the native addon ${PREBUILT}/`));
    expect(installLog).not.toMatch(/compiling the native addon/);
    expect(existsSync(join(installed, 'build'))).toBe(false);
    expect(existsSync(join(installed, PREBUILT, `${pkg.name}.glibc.node`))).toBe(true);
  });

  it('loads in a plain Node process and computes', () => {
    const script = `import('${pkg.name}').then((m) => {
      const x = m.tensor([1, -2, 3, -4], [2, 2]);
      const y = m.relu(x);
      console.log(JSON.stringify({ y: y.toArray(), shape: y.shape, memory: m.memory(), simd: m.simdLevel() }));
    })`;
    const r = run(process.execPath, ['--input-type=module', '-e', script], app);
    const o = JSON.parse(r.stdout) as { y: number[]; shape: number[]; memory: { tensors: number } };
    expect(o.y).toEqual([1, 0, 3, 0]);
    expect(o.shape).toEqual([2, 2]);
    expect(o.memory.tensors).toBe(2);
  });

  it('puts the mpfnet command on the PATH of npm scripts', () => {
    const r = run(join(app, 'node_modules', '.bin', 'mpfnet'), ['--version'], app);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('the prebuilt binary links only the C library (libstdc++ and libgcc are static)', (ctx) => {
    if (!toolAvailable('objdump')) ctx.skip();
    const r = run('objdump', ['-p', join(app, 'node_modules', pkg.name, PREBUILT, `${pkg.name}.glibc.node`)], app);
    const needed = [...r.stdout.matchAll(/NEEDED\s+(\S+)/g)].map((m) => m[1]!);
    expect(needed.filter((n) => !/^(libc|libm|libdl|libpthread|librt|ld-linux-x86-64)\.so/.test(n))).toEqual([]);
  });

  it('the linux-arm64 binary in the tarball is an AArch64 ELF that links only the C library', () => {
    // readelf (binutils, with g++) reads any ELF machine; the host's objdump may not know AArch64.
    const file = join(app, 'node_modules', pkg.name, ARM64, `${pkg.name}.glibc.node`);
    expect(existsSync(file)).toBe(true);
    const header = run('readelf', ['-h', file], app).stdout;
    expect(header).toMatch(/Class:\s+ELF64/);
    expect(header).toMatch(/Machine:\s+AArch64/);
    expect(header).toMatch(/Type:\s+DYN/);
    const needed = [...run('readelf', ['-d', file], app).stdout.matchAll(/\(NEEDED\)\s+Shared library: \[(\S+)\]/g)].map((m) => m[1]!);
    expect(needed.length).toBeGreaterThan(0);
    expect(needed.filter((n) => !/^(libc|libm|libdl|libpthread|librt|ld-linux-aarch64)\.so/.test(n))).toEqual([]);
  });

  it('a release pack (MPFNET_RELEASE=1) stops when the linux-arm64 binary is missing', () => {
    const bare = join(tmp, 'bare');
    mkdirSync(join(bare, PREBUILT), { recursive: true });
    cpSync(join(stage, PREBUILT), join(bare, PREBUILT), { recursive: true });
    const check = join(root, 'native/tools/prepack-check.mjs');
    const r = spawnSync(process.execPath, [check, bare], { env: { ...childEnv(), MPFNET_RELEASE: '1' }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/prebuilds\/linux-arm64\/mpfnet\.glibc\.node is missing \(make it with: npm run prebuild:arm64\)/);
    // Not a release: reported, not fatal.
    const everyday = spawnSync(process.execPath, [check, bare], { env: childEnv(), encoding: 'utf8' });
    expect(everyday.status).toBe(0);
    expect(everyday.stdout).toMatch(/not a release/);
  });

  it('AVX instructions appear only in the *_avx2 / *_avx512* objects (the binary runs on any x86-64)', (ctx) => {
    if (process.arch !== 'x64' || !builtHere || !toolAvailable('objdump')) ctx.skip();
    const objects = objectFiles(join(stage, 'build')).base;
    expect(objects.length).toBeGreaterThan(0);
    const dump = run('objdump', ['-d', '--no-show-raw-insn', ...objects], stage).stdout;
    const offending = new Set<string>();
    let current = '';
    for (const line of dump.split('\n')) {
      const file = /^(\S+\.o):\s+file format/.exec(line);
      if (file) current = file[1]!;
      // VEX/EVEX-encoded instructions are the ones whose mnemonic starts with "v" (vmovups, vfmadd...).
      else if (/^\s+[0-9a-f]+:\s+v[a-z0-9]+\b/.test(line) || /%[yz]mm\d/.test(line)) offending.add(current.replace(stage, ''));
    }
    expect([...offending]).toEqual([]);
  });

  it('no inline or template function is compiled for two instruction sets', (ctx) => {
    // Such a function is emitted in both objects and the linker keeps one copy at random: when it keeps
    // the AVX one, baseline (or AVX2) code calls it too and dies with SIGILL on a CPU without AVX (-512).
    // Keep shared helpers out of the *_avx2 / *_avx512 files, or in an anonymous namespace there.
    if (process.arch !== 'x64' || !builtHere || !toolAvailable('nm')) ctx.skip();
    const objs = objectFiles(join(stage, 'build'));
    if (objs.avx2.length + objs.avx512.length === 0) ctx.skip();
    // Global symbols only (upper case, and u/v/w for unique and weak ones): local ones never clash.
    const defined = (files: string[]) =>
      files.length === 0 ? new Set<string>()
        : new Set([...run('nm', ['--defined-only', ...files], stage).stdout.matchAll(/^[0-9a-f]+ [A-Zuvw] (\S+)$/gm)].map((m) => m[1]!));
    const [base, avx2, avx512] = [defined(objs.base), defined(objs.avx2), defined(objs.avx512)];
    expect([...avx2].filter((sym) => base.has(sym)), 'defined in AVX2 and baseline objects').toEqual([]);
    expect([...avx512].filter((sym) => base.has(sym) || avx2.has(sym)), 'defined in AVX-512 and other objects').toEqual([]);
  });
});
