import { defineConfig } from 'vitest/config'

// One run, three projects. Integration and e2e tests share one set of real servers started by
// the test kit's global setup (NATS, PostgreSQL, ClickHouse, S3 on loopback); each test takes a
// fresh stream / schema / bucket from the kit so files can run in parallel.
export default defineConfig({
  test: {
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
          // Files run one at a time (Vitest 3 sizes its one pool from root options only, and
          // on a 2-core machine three files at once made the run slower: collecting the
          // services' module graphs in parallel contends for the cores, and timing-bound tests
          // such as the 10,000-request traffic split ran out of time).
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
          // One file at a time, whatever the cores: each brings up a whole stack of processes.
          // (`fileParallelism` is a root-only option; a project says it with one fork.)
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
})
