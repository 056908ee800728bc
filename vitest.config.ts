import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addon + real threads and files: separate processes keep a crash contained.
    pool: 'forks',
    // The crash harnesses (power loss, kill -9) enumerate hundreds of runs: on a loaded 2-core
    // machine, or against the ASan addon, they take minutes, not seconds.
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
