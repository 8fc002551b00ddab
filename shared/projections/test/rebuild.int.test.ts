import { NotFoundError, ValidationError } from '@argmax/errors'
import { connectNats, stackEndpoints } from '@argmax/testkit'
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import {
  aggregateCountsProjection,
  exampleMigrations,
  truncateAggregateCounts,
  type ExampleDB,
} from '../src/example/index.ts'
import { silentLogger } from '../src/logger.ts'
import { rebuildServiceProjection, type ServiceProjections } from '../src/rebuild-command.ts'
import { rebuildProjection } from '../src/rebuild.ts'
import { startProjection } from '../src/runner.ts'
import {
  dumpCounts,
  exampleDatabase,
  expectedCounts,
  freshStream,
  publishEvents,
  scriptedEvents,
  storedCheckpoint,
} from './support.ts'

const NAME = aggregateCountsProjection.name

describe('rebuildProjection', () => {
  it('gives tables identical to the ones built incrementally, even after they were damaged', async () => {
    const nc = await connectNats()
    const stream = await freshStream(nc)
    const events = scriptedEvents(800)
    const sequences = await publishEvents(nc, stream, events)
    const last = sequences.at(-1)!
    const { db } = await exampleDatabase()
    const options = { nc, db, stream, projection: aggregateCountsProjection, log: silentLogger }
    const running = await startProjection({ ...options, batchSize: 13 })
    await running.waitFor(last, 20_000)
    await running.stop()
    const incremental = await dumpCounts(db)
    expect(incremental).toEqual(expectedCounts(events, sequences))

    // Damage that only a rebuild repairs: a lost row and a wrong count.
    await sql`delete from aggregate_counts where aggregate_id = 'agg0'`.execute(db)
    await sql`update aggregate_counts set added = added + 1000`.execute(db)
    const report = await rebuildProjection({ ...options, truncate: truncateAggregateCounts })
    expect(report).toMatchObject({
      projection: NAME,
      stream,
      position: last,
      processed: 800,
      applied: 640,
    })
    expect(await dumpCounts(db)).toEqual(incremental)
    expect(await storedCheckpoint(db, NAME, stream)).toBe(last)
  })

  it('leaves empty tables for an empty stream', async () => {
    const nc = await connectNats()
    const stream = await freshStream(nc)
    const { db } = await exampleDatabase()
    await db
      .insertInto('aggregate_counts')
      .values({
        aggregate_id: 'stale',
        added: 1,
        removed: 0,
        last_sequence: 1,
        last_event_type: 'x',
      })
      .execute()
    const report = await rebuildProjection({
      nc,
      db,
      stream,
      projection: aggregateCountsProjection,
      truncate: truncateAggregateCounts,
      log: silentLogger,
    })
    expect(report).toMatchObject({ position: 0, processed: 0, applied: 0 })
    expect(await dumpCounts(db)).toEqual([])
  })

  it('makes a live runner of the same projection replay too, without double counting', async () => {
    const nc = await connectNats()
    const stream = await freshStream(nc)
    const events = scriptedEvents(600)
    const sequences = await publishEvents(nc, stream, events)
    const { db } = await exampleDatabase()
    const options = { nc, db, stream, projection: aggregateCountsProjection, log: silentLogger }
    const live = await startProjection({ ...options, batchSize: 9 })
    await live.waitFor(sequences.at(-1)!, 20_000)
    await rebuildProjection({ ...options, batchSize: 17, truncate: truncateAggregateCounts })
    // The live runner notices its checkpoint went back to 0 and keeps up with new events.
    const more = scriptedEvents(40)
    const moreSequences = await publishEvents(nc, stream, more, 600)
    await live.waitFor(moreSequences.at(-1)!, 20_000)
    await live.stop()
    expect(await dumpCounts(db)).toEqual(
      expectedCounts([...events, ...more], [...sequences, ...moreSequences]),
    )
  })

  it('refuses a stream that does not exist before touching the tables', async () => {
    const nc = await connectNats()
    const { db } = await exampleDatabase()
    await db
      .insertInto('aggregate_counts')
      .values({
        aggregate_id: 'kept',
        added: 1,
        removed: 0,
        last_sequence: 1,
        last_event_type: 'x',
      })
      .execute()
    await expect(
      rebuildProjection({
        nc,
        db,
        stream: 'NO_SUCH_STREAM',
        projection: aggregateCountsProjection,
        truncate: truncateAggregateCounts,
        log: silentLogger,
      }),
    ).rejects.toThrow(NotFoundError)
    expect(await dumpCounts(db)).toHaveLength(1)
  })
})

describe('rebuildServiceProjection (the CLI entry)', () => {
  it('opens its own connections, migrates, rebuilds by name and closes', async () => {
    const nc = await connectNats()
    const stream = await freshStream(nc)
    const events = scriptedEvents(120)
    const sequences = await publishEvents(nc, stream, events)
    const { db, schema } = await exampleDatabase()
    const service: ServiceProjections<ExampleDB> = {
      service: 'example',
      schema,
      migrations: exampleMigrations,
      projections: [
        { projection: aggregateCountsProjection, stream, truncate: truncateAggregateCounts },
      ],
    }
    const { natsUrl, postgresUrl } = stackEndpoints()
    const report = await rebuildServiceProjection({
      natsUrl,
      postgresUrl,
      service,
      name: NAME,
      log: silentLogger,
    })
    expect(report.position).toBe(sequences.at(-1))
    expect(await dumpCounts(db)).toEqual(expectedCounts(events, sequences))

    await expect(
      rebuildServiceProjection({ natsUrl, postgresUrl, service, name: 'nope', log: silentLogger }),
    ).rejects.toSatisfy(
      (error) =>
        error instanceof ValidationError &&
        error.message ===
          "name: service example has no projection 'nope' (it has: aggregate_counts)",
    )
  })
})
