import { defineConfig } from 'vitest/config'

// One run, three projects. Integration and e2e tests share one set of real servers started by
// the test kit's global setup (NATS, PostgreSQL, ClickHouse, S3 on loopback); each test takes a
// fresh stream / schema / bucket from the kit so files can run in parallel.
export default defineConfig({
  test: {
    // A worker per core (vitest's default leaves one core to itself). It lets the two e2e files
    // run side by side: the demo loop spends most of its time waiting on its canary windows
    // (~20 % of the CPU), and the stack file runs meanwhile (e2e 305 s → 255 s). The int
    // project keeps one fork of its own (below).
    maxWorkers: '100%',
    // Each worker keeps the modules it imported between its files (the pool's setting, so it is
    // set here for every project; int's single fork keeps them anyway): importing the services'
    // module graphs afresh for every unit file was two thirds of the unit project's time
    // (75 s → 24–28 s here). Unit files share no servers and leave no globals behind; they
    // passed with their order shuffled across the workers. A test that bounds a process's
    // memory runs what it measures in a process of its own (large-stream.child.ts).
    poolOptions: { forks: { isolate: false } },
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
          setupFiles: ['shared/testkit/src/file-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          maxConcurrency: 4,
          // Two files at a time (a fork per core), each fork keeping its modules between its
          // files: importing the services' module graphs afresh for every file took 173 of the
          // project's 876 s. One file at a time kept the 2 cores 54 % busy (the rest is the
          // tests' real waits: ack windows, restarts, retries), two make it 87 % and the project
          // 564 s → 366 s. Files share no server they stop (a test that kills NATS or ClickHouse
          // starts its own), take fresh streams, schemas and buckets from the kit, clean up what
          // they start, and give back a process global they take over (OpenTelemetry's
          // providers). Three at a time made the run slower and timing-bound tests such as the
          // 10,000-request traffic split ran out of time.
          poolOptions: { forks: { isolate: false } },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['{shared,services,cli}/**/*.e2e.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['shared/testkit/src/global-setup.ts'],
          setupFiles: ['shared/testkit/src/file-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
})
