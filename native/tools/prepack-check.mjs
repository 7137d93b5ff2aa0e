#!/usr/bin/env node
// npm's prepack hook: checks the prebuilt binaries that `npm pack` / `npm publish` will ship.
//   node native/tools/prepack-check.mjs [package folder]
// With MPFNET_RELEASE=1 (a release) every platform in RELEASE_PLATFORMS must have its binary, built for
// the right machine (ELF header), or the pack stops with what is missing and the command that makes it.
// Without it (everyday `npm pack`, tests) a missing binary is only reported.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { elfMachine } from './elf.mjs';

/** The platforms a release ships, with the ELF e_machine of their binaries and how to build them. */
const RELEASE_PLATFORMS = [
  { dir: 'linux-x64', machine: 62, machineName: 'x86-64', make: 'npm run prebuild (on an x86-64 Linux host)' },
  { dir: 'linux-arm64', machine: 183, machineName: 'AArch64', make: 'npm run prebuild:arm64' },
];

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
const release = ['1', 'true', 'yes'].includes((process.env.MPFNET_RELEASE ?? '').toLowerCase());

const problems = [];
for (const p of RELEASE_PLATFORMS) {
  const file = join(root, 'prebuilds', p.dir, 'mpfnet.glibc.node');
  if (!existsSync(file)) problems.push(`prebuilds/${p.dir}/mpfnet.glibc.node is missing (make it with: ${p.make})`);
  else if (elfMachine(file) !== p.machine) problems.push(`prebuilds/${p.dir}/mpfnet.glibc.node is not an ${p.machineName} ELF binary (rebuild it with: ${p.make})`);
}
if (problems.length === 0) {
  console.log(`mpfnet prepack: prebuilt binaries for ${RELEASE_PLATFORMS.map((p) => p.dir).join(', ')}`);
} else if (release) {
  console.error(`mpfnet prepack: MPFNET_RELEASE is set and the release is incomplete:\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
} else {
  console.log(`mpfnet prepack: not a release (MPFNET_RELEASE unset), packing anyway:\n  - ${problems.join('\n  - ')}`);
}
