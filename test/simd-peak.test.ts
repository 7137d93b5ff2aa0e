// The peak microbenchmark binding (native/cpu/peak.cc) and the SIMD level controls: argument
// checks, result shape, and that a level of the other architecture family leaves the level as is.
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../bindings/index.js';

describe('peakGflops', () => {
  it('measures a positive fp32 rate on every pool thread', () => {
    const r = native.peakGflops(20);
    expect(r.fp32).toBeGreaterThan(0);
    expect(r.threads).toBe(native.numThreads());
    expect(r.isa).toBe(native.simd());
    expect(r.bf16 === null || r.bf16 > 0).toBe(true);
  });

  it('rejects a bad duration naming the value', () => {
    expect(() => native.peakGflops(0)).toThrow(RangeError);
    expect(() => native.peakGflops(0)).toThrow(/'ms'.*got 0/);
    expect(() => native.peakGflops(20000)).toThrow(RangeError);
    expect(() => native.peakGflops('fast' as unknown as number)).toThrow(TypeError);
  });
});

describe('setSimd', () => {
  const simd0 = native.simd();
  afterEach(() => {
    native.setSimd(simd0);
  });

  it('ignores a level of the other architecture family', () => {
    const other = process.arch === 'arm64' ? 'avx2' : 'neon';
    expect(native.setSimd(other)).toBe(simd0);
  });

  it('always allows scalar', () => {
    expect(native.setSimd('scalar')).toBe('scalar');
  });

  it('rejects an unknown level naming it', () => {
    expect(() => native.setSimd('sse9' as 'scalar')).toThrow(/sse9/);
  });
});
