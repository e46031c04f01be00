import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // FUSE mounts, nginx and the CLI are real processes: keep files in parallel
    // but bounded on a 2-core machine.
    maxWorkers: 2,
    pool: 'forks',
  },
});
