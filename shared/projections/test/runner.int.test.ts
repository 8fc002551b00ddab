import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { NotFoundError } from '@argmax/errors'
import type { RecordedEvent } from '@argmax/events'
import { connectNats, launchArgs, stackEndpoints, uniqueName } from '@argmax/testkit'
import { createPrometheusMetrics } from '@argmax/telemetry'
import { describe, expect, it, vi } from 'vitest'
import { createDatabase } from '../src/database.ts'
import {
  ProjectionFailedError,
  ProjectionFailingError,
  ProjectionTimeoutError,
} from '../src/errors.ts'
import {
  aggregateCountsEventProjection,
  aggregateCountsProjection,
  type ExampleDB,
} from '../src/example/index.ts'
import { silentLogger } from '../src/logger.ts'
import type { BatchProjection } from '../src/projection.ts'
import { startProjection } from '../src/runner.ts'
import {
  captureLogger,
  dumpCounts,
  exampleDatabase,
  expectedCounts,
  lockableRole,
  freshStream,
  publishEvents,
  scriptedEvents,
  storedCheckpoint,
} from './support.ts'

const NAME = aggregateCountsProjection.name

/** The value of a metric's series for this test's projection and stream, from /metrics text. */
async function readSeries(prometheus: { metricsText(): Promise<string> }) {
  const text = await prometheus.metricsText()
  return (metric: string) => {
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`${metric}{`) && l.includes(`projection="${NAME}"`))
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
  }
}

/** Publishes `count` scripted events to a fresh stream and returns what a correct run holds. */
async function seededStream(count: number) {
  const nc = await connectNats()
  const stream = await freshStream(nc)
  const events = scriptedEvents(count)
  const sequences = await publishEvents(nc, stream, events)
  return {
    nc,
    stream,
    events,
    sequences,
    last: sequences.at(-1)!,
    expected: expectedCounts(events, sequences),
  }
}

/** Runs a projection until it has applied `last`, then stops it. */
async function runToEnd(
  options: Pick<
    Parameters<typeof startProjection<ExampleDB>>[0],
    'nc' | 'db' | 'stream' | 'projection'
  >,
  last: number,
) {
  const running = await startProjection({ ...options, log: silentLogger })
  await running.waitFor(last, 20_000)
  await running.stop()
}

describe('startProjection', () => {
  it('applies a stream in batches and checkpoints its last sequence, ignored types included', async () => {
    const { nc, stream, last, expected } = await seededStream(500)
    const { db } = await exampleDatabase()
    const running = await startProjection({
      nc,
      db,
      stream,
      projection: aggregateCountsProjection,
      batchSize: 64,
      log: silentLogger,
    })
    // The last event is an ItemRenamed the projection does not handle: it still counts.
    expect(await running.waitFor(last, 20_000)).toBe(last)
    expect(await dumpCounts(db)).toEqual(expected)
    expect(await storedCheckpoint(db, NAME, stream)).toBe(last)
    expect(running.status()).toMatchObject({
      state: 'running',
      position: last,
      caughtUp: true,
      processed: 500,
      applied: 400,
    })
    await running.stop()
    expect(running.status().state).toBe('stopped')
  })

  it('keeps applying events published while it runs, and resumes after a restart', async () => {
    const { nc, stream, events: first, sequences: firstSequences } = await seededStream(50)
    const { db } = await exampleDatabase()
    const options = { nc, db, stream, projection: aggregateCountsProjection, log: silentLogger }
    const running = await startProjection(options)
    const more = scriptedEvents(30).reverse()
    const moreSequences = await publishEvents(nc, stream, more, 50)
    await running.waitFor(moreSequences.at(-1)!, 20_000)
    await running.stop()
    const later = scriptedEvents(20)
    const laterSequences = await publishEvents(nc, stream, later, 80)
    const resumed = await startProjection(options)
    await resumed.waitFor(laterSequences.at(-1)!, 20_000)
    await resumed.stop()
    expect(await dumpCounts(db)).toEqual(
      expectedCounts(
        [...first, ...more, ...later],
        [...firstSequences, ...moreSequences, ...laterSequences],
      ),
    )
  })

  it('applies event-by-event projections to the same rows as batch ones', async () => {
    const { nc, stream, last, expected } = await seededStream(300)
    const { db } = await exampleDatabase()
    await runToEnd({ nc, db, stream, projection: aggregateCountsEventProjection }, last)
    expect(await dumpCounts(db)).toEqual(expected)
  })

  it('ends with the same rows when two runners see every event (redelivery is harmless)', async () => {
    const { nc, stream, last, expected } = await seededStream(600)
    const { db } = await exampleDatabase()
    const options = { nc, db, stream, projection: aggregateCountsProjection, log: silentLogger }
    // Both read the whole stream from sequence 1; each batch locks the checkpoint, so whatever
    // one committed is skipped by the other.
    const [a, b] = await Promise.all([
      startProjection({ ...options, batchSize: 7 }),
      startProjection({ ...options, batchSize: 11 }),
    ])
    await Promise.all([a.waitFor(last, 20_000), b.waitFor(last, 20_000)])
    await Promise.all([a.stop(), b.stop()])
    expect(await dumpCounts(db)).toEqual(expected)
    // Every handled event applied exactly once between the two.
    expect(a.status().applied + b.status().applied).toBe(480)
  })

  it('retries a failing event without skipping it, reports it, and resumes by itself once fixed', async () => {
    const { nc, stream, last, sequences, expected } = await seededStream(200)
    const { db } = await exampleDatabase()
    const culprit = sequences[120]!
    // A bug that is there until a fix is deployed (here: the flag flipped under the runner).
    let buggy = true
    const flaky: BatchProjection<ExampleDB> = {
      ...aggregateCountsProjection,
      async applyBatch(trx, events: readonly RecordedEvent[]) {
        if (buggy && events.some((event) => event.sequence === culprit)) {
          throw new Error('handler bug')
        }
        await aggregateCountsProjection.applyBatch(trx, events)
      },
    }
    const logs = captureLogger()
    const prometheus = createPrometheusMetrics({ serviceName: 'projections-test' })
    const running = await startProjection({
      nc,
      db,
      stream,
      projection: flaky,
      batchSize: 50,
      log: logs.logger,
      meter: prometheus.meter(),
      retry: { minDelayMs: 20, maxDelayMs: 100 },
    })
    try {
      // Stuck on the culprit and retrying it: several failed attempts, never past it.
      await vi.waitFor(() => expect(running.status().failure?.attempts).toBeGreaterThan(2), {
        timeout: 20_000,
      })
      const status = running.status()
      expect(status).toMatchObject({ state: 'failing', position: culprit - 1 })
      expect(status.failure?.error).toBeInstanceOf(ProjectionFailedError)
      expect(status.failure?.error).toMatchObject({ sequence: culprit, eventType: 'ItemAdded' })
      expect(status.failure?.error.message).toMatch(`sequence ${culprit} (ItemAdded): handler bug`)
      expect(await storedCheckpoint(db, NAME, stream)).toBe(culprit - 1)
      // A read-your-writes wait is refused at once, naming what it is stuck on (a 503).
      const refused = await running.waitFor(last, 10_000).catch((error: unknown) => error)
      expect(refused).toBeInstanceOf(ProjectionFailingError)
      expect((refused as Error).message).toContain(`sequence ${culprit} (ItemAdded): handler bug`)
      // Reported in the service's log (with its service name) and its metrics.
      const failureLine = logs.lines().find((line) => line['sequence'] === culprit)
      expect(failureLine).toMatchObject({
        level: 'error',
        service: 'projections-test',
        projection: NAME,
        stream,
        position: culprit - 1,
        eventType: 'ItemAdded',
      })
      const series = await readSeries(prometheus)
      expect(series('argmax_projection_failing')).toBe(1)
      expect(series('argmax_projection_position')).toBe(culprit - 1)
      expect(series('argmax_projection_failures_total')).toBeGreaterThanOrEqual(3)

      buggy = false
      await vi.waitFor(() => expect(running.position()).toBe(last), { timeout: 20_000 })
      expect(running.status()).toMatchObject({ state: 'running', position: last })
      expect(running.status().failure).toBeUndefined()
      expect(await dumpCounts(db)).toEqual(expected)
      expect((await readSeries(prometheus))('argmax_projection_failing')).toBe(0)
      expect(logs.lines().some((line) => line['msg'] === 'projection resumed')).toBe(true)
    } finally {
      await running.stop()
      await prometheus.shutdown()
    }
  })

  it('resumes by itself after PostgreSQL refuses its connections for a while', async () => {
    const { nc, stream, events, sequences } = await seededStream(100)
    const { schema } = await exampleDatabase()
    // The projection connects as a role of its own, which the test locks out and lets back in:
    // PostgreSQL itself refuses the connections, nothing in between is faked.
    const role = await lockableRole(schema)
    const { db, destroy } = await createDatabase<ExampleDB>({
      connectionString: role.url,
      schema,
      poolMax: 2,
      log: silentLogger,
    })
    const running = await startProjection({
      nc,
      db,
      stream,
      projection: aggregateCountsProjection,
      log: silentLogger,
      retry: { minDelayMs: 20, maxDelayMs: 200 },
    })
    try {
      await running.waitFor(sequences.at(-1)!, 20_000)
      await role.lockOut()
      const more = scriptedEvents(60)
      const moreSequences = await publishEvents(nc, stream, more, 100)
      await vi.waitFor(() => expect(running.status().failure?.attempts).toBeGreaterThan(1), {
        timeout: 20_000,
      })
      expect(running.status()).toMatchObject({ state: 'failing', position: sequences.at(-1) })
      expect(running.status().failure?.error.message).toContain('not permitted to log in')

      await role.letIn()
      const last = moreSequences.at(-1)!
      // No restart: its next retry gets through (waits are refused while it is failing).
      await vi.waitFor(() => expect(running.position()).toBe(last), { timeout: 30_000 })
      expect(running.status().state).toBe('running')
      expect(await dumpCounts(db)).toEqual(
        expectedCounts([...events, ...more], [...sequences, ...moreSequences]),
      )
    } finally {
      await running.stop()
      await destroy()
      await role.drop()
    }
  })

  it('ends with the same rows after stop() part-way and a restart', async () => {
    const { nc, stream, last, expected } = await seededStream(1_000)
    const { db } = await exampleDatabase()
    const options = {
      nc,
      db,
      stream,
      projection: aggregateCountsEventProjection,
      batchSize: 5,
      log: silentLogger,
    }
    const first = await startProjection(options)
    await first.waitFor(100, 20_000)
    await first.stop()
    const stoppedAt = first.position()
    expect(stoppedAt).toBeLessThan(last)
    expect(await storedCheckpoint(db, NAME, stream)).toBe(stoppedAt)
    const second = await startProjection(options)
    await second.waitFor(last, 20_000)
    await second.stop()
    expect(second.status().processed).toBe(last - stoppedAt)
    expect(await dumpCounts(db)).toEqual(expected)
  })

  it('ends with the same rows after its process is killed with SIGKILL mid-stream', async () => {
    const { nc, stream, last, expected } = await seededStream(2_000)
    const { db, schema } = await exampleDatabase()
    const endpoints = stackEndpoints()
    const script = fileURLToPath(new URL('./fixtures/run-projection.main.ts', import.meta.url))
    const child = spawn(process.execPath, launchArgs(script), {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      env: {
        ...process.env,
        PROJ_NATS_URL: endpoints.natsUrl,
        PROJ_POSTGRES_URL: endpoints.postgresUrl,
        PROJ_SCHEMA: schema,
        PROJ_STREAM: stream,
        PROJ_BATCH: '5',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    try {
      await new Promise<void>((resolve, reject) => {
        let output = ''
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString()
          const positions = [...output.matchAll(/position (\d+)/g)].map((m) => Number(m[1]))
          if (positions.some((position) => position >= 200)) resolve()
        })
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
        child.once('exit', (code) => reject(new Error(`child exited (${code}): ${output}`)))
      })
    } finally {
      child.kill('SIGKILL')
      await exited
    }
    const killedAt = (await storedCheckpoint(db, NAME, stream))!
    expect(killedAt).toBeGreaterThanOrEqual(200)
    expect(killedAt).toBeLessThan(last)

    await runToEnd({ nc, db, stream, projection: aggregateCountsProjection }, last)
    expect(await dumpCounts(db)).toEqual(expected)
  })

  it('times out a wait for a sequence the stream does not have yet', async () => {
    const { nc, stream, last } = await seededStream(10)
    const { db } = await exampleDatabase()
    const running = await startProjection({
      nc,
      db,
      stream,
      projection: aggregateCountsProjection,
      log: silentLogger,
    })
    await expect(running.waitFor(last + 5, 300)).rejects.toThrow(ProjectionTimeoutError)
    await expect(running.waitFor(last + 5, 300)).rejects.toThrow(
      `did not reach sequence ${last + 5} within 300 ms (its checkpoint is at ${last})`,
    )
    await running.stop()
  })

  it('waits for a stream that another service creates later, when asked to', async () => {
    const nc = await connectNats()
    const { db } = await exampleDatabase()
    const stream = uniqueName('LATER').toUpperCase()
    const running = await startProjection({
      nc,
      db,
      stream,
      projection: aggregateCountsProjection,
      log: silentLogger,
      waitForStream: true,
      retry: { minDelayMs: 50, maxDelayMs: 200 },
    })
    await vi.waitFor(() => expect(running.status().state).toBe('failing'))
    const jsm = await nc.jetstreamManager()
    await jsm.streams.add({ name: stream, subjects: [`${stream.toLowerCase()}.>`] })
    const sequences = await publishEvents(nc, stream, scriptedEvents(20))
    // Once the stream is there, the next retry reads it from the start.
    await vi.waitFor(
      () =>
        expect(running.status()).toMatchObject({ state: 'running', position: sequences.at(-1) }),
      { timeout: 10_000, interval: 50 },
    )
    await running.stop()
  })

  it('refuses a stream that does not exist', async () => {
    const nc = await connectNats()
    const { db } = await exampleDatabase()
    await expect(
      startProjection({
        nc,
        db,
        stream: 'NO_SUCH_STREAM',
        projection: aggregateCountsProjection,
        log: silentLogger,
      }),
    ).rejects.toThrow(NotFoundError)
  })
})
