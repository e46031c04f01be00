import { defineConfig } from 'vitest/config';

/** Settings of both projects. */
const common = {
  testTimeout: 120_000,
  hookTimeout: 300_000,
  // FUSE mounts, nginx and some CLI runs are real processes: keep files in
  // parallel but bounded on a 2-core machine.
  maxWorkers: 2,
  pool: 'forks',
} as const;

export default defineConfig({
  test: {
    ...common,
    // Builds dist/ first, once (the projects do not inherit it): real-process
    // tests run bin/trove.js, and `trove mount` starts dist/fuse/main.js.
    globalSetup: ['test/global-setup.ts'],
    // `fast`: what a developer runs after an edit (npm run test:fast);
    // `slow`: the stress tests, *.slow.test.ts (kill loops, thousands of swaps). npm test runs both.
    projects: [
      { test: { ...common, name: 'fast', include: ['test/**/*.test.ts'], exclude: ['test/**/*.slow.test.ts'] } },
      { test: { ...common, name: 'slow', include: ['test/**/*.slow.test.ts'] } },
    ],
  },
});
