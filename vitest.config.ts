import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start real local services; keep the 2-core CI machine from thrashing.
    maxWorkers: 2,
  },
});
