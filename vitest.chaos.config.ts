import { defineConfig } from 'vitest/config';

/**
 * The crash suite (`npm run test:chaos`, docs/failure-modes.md#the-crash-suite): worker and
 * Redis processes killed and restarted, models that hang or drop connections, a burst against
 * a memory-capped worker; and the property tests of `test/fuzz/` with many more runs than
 * `npm test` gives them.
 */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts', 'test/fuzz/**/*.test.ts'],
    env: { FUZZ_RUNS: '10000' },
    // The fuzz folder may be empty; the crash cases alone are a suite.
    passWithNoTests: true,
    testTimeout: 240_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One file at a time: each case runs several processes of its own, and two at once on two
    // cores made the suite slower, not faster (4.3 minutes against 3).
    fileParallelism: false,
  },
});
