// The SIMD levels this CPU can run, for tests that repeat a check at every level: probed with
// setSimd (which caps at what the CPU has) over this architecture's family, so aarch64 covers
// scalar and neon and x86-64 covers scalar, avx2 and avx512 where present. The level in force
// before the call is restored.
import { native } from '../../bindings/index.js';

export type SimdLevel = 'scalar' | 'avx2' | 'avx512' | 'neon';

/** Every level setSimd accepts on this machine, lowest first (always includes 'scalar'). */
export function simdLevels(): SimdLevel[] {
  const family: SimdLevel[] = process.arch === 'arm64' ? ['scalar', 'neon'] : ['scalar', 'avx2', 'avx512'];
  const before = native.simd();
  return family.filter((l) => {
    const got = native.setSimd(l);
    native.setSimd(before);
    return got === l;
  });
}
