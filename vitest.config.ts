import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fresh native buffers read as NaN in tests, so an output element a kernel never wrote fails
    // the comparisons instead of passing by luck (native/common/tensor.cc, poison mode).
    env: { MPFNET_POISON: '1' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
