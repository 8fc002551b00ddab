import { ValidationError } from '@argmax/errors'
import { connectNats, stackEndpoints } from '@argmax/testkit'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { checkpointListenerFor, type CheckpointNotice } from '../src/checkpoint-listener.ts'
import { saveCheckpoint } from '../src/checkpoints.repository.ts'
import { ProjectionTimeoutError } from '../src/errors.ts'
import { aggregateCountsProjection, type ExampleDB } from '../src/example/index.ts'
import { silentLogger } from '../src/logger.ts'
import { startProjection } from '../src/runner.ts'
import { waitForPosition } from '../src/wait-for-position.ts'
import { exampleDatabase, freshStream, publishEvents, scriptedEvents } from './support.ts'

const NAME = aggregateCountsProjection.name

describe('waitForPosition', () => {
  it('resolves once the projection has committed the sequence (woken by NOTIFY)', async () => {
    const nc = await connectNats()
    const stream = await freshStream(nc)
    const sequences = await publishEvents(nc, stream, scriptedEvents(200))
    const { db } = await exampleDatabase()
    // Waiting starts before the projection does: it must catch up from nothing.
    const waiting = waitForPosition(db, NAME, sequences.at(-1)!, { timeoutMs: 20_000 })
    const running = await startProjection({
      nc,
      db,
      stream,
      projection: aggregateCountsProjection,
      batchSize: 20,
      log: silentLogger,
    })
    expect(await waiting).toBe(sequences.at(-1))
    // Read-your-writes: a command appends, its reply carries the sequence, the query waits.
    const [appended] = await publishEvents(
      nc,
      stream,
      [{ type: 'ItemAdded', aggregate: 'new' }],
      200,
    )
    await waitForPosition(db, NAME, appended!, { timeoutMs: 20_000 })
    const row = await db
      .selectFrom('aggregate_counts')
      .selectAll()
      .where('aggregate_id', '=', 'new')
      .executeTakeFirst()
    expect(row).toMatchObject({ added: 1, last_sequence: String(appended) })
    await running.stop()
  })

  it('hears every committed checkpoint of its own schema through LISTEN/NOTIFY', async () => {
    const { db } = await exampleDatabase()
    const notices: CheckpointNotice[] = []
    let heard: () => void = () => undefined
    const second = new Promise<void>((resolve) => (heard = resolve))
    const unsubscribe = await checkpointListenerFor(db)!.subscribe((notice) => {
      if (notice === 'lost') return
      notices.push(notice)
      if (notices.length === 2) heard()
    })
    await saveCheckpoint(db, { name: NAME, stream: 'S' }, 1, new Date())
    // Rolled back: never announced.
    await db
      .transaction()
      .execute(async (trx) => {
        await saveCheckpoint(trx, { name: NAME, stream: 'S' }, 99, new Date())
        throw new Error('rollback')
      })
      .catch(() => undefined)
    await saveCheckpoint(db, { name: NAME, stream: 'S' }, 2, new Date())
    await second
    unsubscribe()
    expect(notices).toEqual([
      { name: NAME, stream: 'S', position: 1 },
      { name: NAME, stream: 'S', position: 2 },
    ])
  })

  it('rejects with a timeout naming where the projection is', async () => {
    const { db } = await exampleDatabase()
    await saveCheckpoint(db, { name: NAME, stream: 'S' }, 7, new Date())
    const attempt = waitForPosition(db, NAME, 8, { timeoutMs: 200 })
    await expect(attempt).rejects.toThrow(ProjectionTimeoutError)
    await expect(attempt).rejects.toThrow(
      'projection aggregate_counts did not reach sequence 8 within 200 ms (its checkpoint is at 7)',
    )
  })

  it('polls when the Kysely instance was not made by createDatabase', async () => {
    const { db, schema } = await exampleDatabase()
    const pool = new pg.Pool({
      connectionString: stackEndpoints().postgresUrl,
      options: `-c search_path=${schema}`,
      max: 2,
    })
    const plain = new Kysely<ExampleDB>({ dialect: new PostgresDialect({ pool }) })
    afterAll(() => plain.destroy())
    const waiting = waitForPosition(plain, NAME, 3, { timeoutMs: 5_000, pollIntervalMs: 10 })
    await saveCheckpoint(db, { name: NAME, stream: 'S' }, 2, new Date())
    await saveCheckpoint(db, { name: NAME, stream: 'S' }, 3, new Date())
    expect(await waiting).toBe(3)
  })

  it('needs the stream when the projection reads several', async () => {
    const { db } = await exampleDatabase()
    await saveCheckpoint(db, { name: NAME, stream: 'A' }, 5, new Date())
    await saveCheckpoint(db, { name: NAME, stream: 'B' }, 1, new Date())
    await expect(waitForPosition(db, NAME, 1, { timeoutMs: 100 })).rejects.toThrow(ValidationError)
    expect(await waitForPosition(db, NAME, 5, { timeoutMs: 100, stream: 'A' })).toBe(5)
    await expect(waitForPosition(db, NAME, 5, { timeoutMs: 100, stream: 'B' })).rejects.toThrow(
      ProjectionTimeoutError,
    )
  })

  it('ignores the same projection name in another service schema', async () => {
    const mine = await exampleDatabase()
    const theirs = await exampleDatabase()
    const waiting = waitForPosition(mine.db, NAME, 4, { timeoutMs: 300 })
    await saveCheckpoint(theirs.db, { name: NAME, stream: 'S' }, 10, new Date())
    await expect(waiting).rejects.toThrow(ProjectionTimeoutError)
  })

  it('refuses a sequence that is not a non-negative integer', async () => {
    const { db } = await exampleDatabase()
    await expect(waitForPosition(db, NAME, -1, { timeoutMs: 100 })).rejects.toThrow(ValidationError)
    await expect(waitForPosition(db, NAME, 1.5, { timeoutMs: 100 })).rejects.toThrow(
      ValidationError,
    )
  })
})
