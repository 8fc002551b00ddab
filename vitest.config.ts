import { defineConfig } from 'vitest/config'

// One run, three projects. Integration and e2e tests share one set of real servers started by
// the test kit's global setup (NATS, PostgreSQL, ClickHouse, S3 on loopback); each test takes a
// fresh stream / schema / bucket from the kit so files can run in parallel.
export default defineConfig({
  test: {
    // Vitest 3 sizes its one forks pool from these root options only: a project's own
    // `poolOptions` are not read for that (an int-project `maxForks: 3` ran one file at a
    // time). Three at once: most of an integration file's time is spent waiting on servers,
    // processes and timeouts, not on a core. The e2e project runs its files one by one.
    poolOptions: { forks: { maxForks: 3, minForks: 1 } },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{shared,services,cli,bench,proto}/**/*.unit.test.ts'],
          exclude: ['**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'int',
          include: ['{shared,services,cli,bench}/**/*.int.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['shared/testkit/src/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          maxConcurrency: 4,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['{shared,services,cli}/**/*.e2e.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['shared/testkit/src/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
