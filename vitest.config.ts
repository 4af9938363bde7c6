import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 90_000,
    // The CI machine has two cores; integration suites also run DynamoDB Local (Java) beside them.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          // Whole runs through real local services; generous for a loaded 2-core CI machine.
          testTimeout: 90_000,
          // One DynamoDB Local and one fauxqs for the whole run; each suite makes its own tables/queues.
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
