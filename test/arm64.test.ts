// The linux-arm64 prebuilt binary under emulation (test/arm64/check.mjs, `npm run check:arm64`): Debian's
// arm64 Node under qemu-aarch64 loads prebuilds/linux-arm64/mpfnet.glibc.node, runs the op checks and the
// default-model golden forward with NEON and with the portable path, and every output must match this
// machine's x64 results within 1e-4 and PyTorch's fixtures. Skipped, with the reason printed, only where
// qemu-aarch64 or the arm64 sysroot (apt's arm64 package lists) is unavailable.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });

/** Why the emulation cannot run here, or null when it can (the sysroot is made when missing). */
function unavailable(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the emulation check runs on linux-x64 hosts (this is ${process.platform}-${process.arch})`;
  if (spawnSync('qemu-aarch64', ['--version']).status !== 0) return 'qemu-aarch64 is missing (Debian: apt-get install qemu-user)';
  const sysroot = node(['test/arm64/sysroot.mjs']);
  if (sysroot.status === 2) return sysroot.stderr.trim();
  if (sysroot.status !== 0) throw new Error(`test/arm64/sysroot.mjs failed:\n${sysroot.stdout}${sysroot.stderr}`);
  return null;
}

describe('linux-arm64 prebuilt binary under qemu-aarch64', () => {
  const reason = unavailable();
  if (reason) console.log(`arm64 emulation check skipped: ${reason}`);

  it.skipIf(reason !== null)('matches the x64 results and PyTorch within 1e-4, with NEON and with the portable path', () => {
    if (!existsSync(join(root, 'prebuilds/linux-arm64/mpfnet.glibc.node'))) {
      const build = spawnSync('npm', ['run', 'prebuild:arm64'], { cwd: root, encoding: 'utf8', env: { ...process.env, JOBS: process.env.JOBS ?? '2' } });
      if (build.status !== 0) throw new Error(`npm run prebuild:arm64 failed:\n${build.stdout}${build.stderr}`);
    }
    const r = node(['test/arm64/check.mjs']);
    console.log(r.stdout + r.stderr);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/arm64: Node v\d+\.\d+\.\d+ under qemu-aarch64, SIMD neon/);
    expect(r.stdout).toMatch(/arm64 portable: Node v\d+\.\d+\.\d+ under qemu-aarch64, SIMD scalar/);
    expect(r.stdout).toMatch(/check:arm64 passed/);
  }, 900_000);
});
