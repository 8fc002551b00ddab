/**
 * Projection rebuild benchmark: replaying a stream into PostgreSQL through @argmax/projections
 * (rebuildProjection: ordered consumer, batches of events folded into multi-row upserts, the
 * checkpoint in the same transaction) against the raw read of the same stream with the same
 * ordered consumer and batch size (decode only, nothing written): how close the rebuild gets to
 * the speed of simply reading the events.
 *
 *   npx tsx bench/projection-rebuild.bench.ts [--events 100000] [--batch 1000] [--runs 3]
 *                                             [--per-event]
 *
 * Starts its own nats-server and PostgreSQL (durable settings: fsync on) in a temporary
 * directory, and removes them at the end. Each figure is the median of --runs runs. With
 * --per-event it also rebuilds with the event-by-event variant of the same projection (one
 * upsert per event), for comparison. Ends with ONE line of JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { decodeRecorded, encodeEnvelope, type EventEnvelope } from '@argmax/events'
import {
  createDatabase,
  migrateToLatest,
  rebuildProjection,
  silentLogger,
  type Projection,
} from '@argmax/projections'
import {
  aggregateCountsEventProjection,
  aggregateCountsProjection,
  exampleMigrations,
  truncateAggregateCounts,
  type ExampleDB,
} from '@argmax/projections/example'
import { freePort, startNats, startPostgres, type RunningPart } from '@argmax/stack'
import { sql } from 'kysely'
import { connect, StorageType, type NatsConnection } from 'nats'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    'per-event': { type: 'boolean', default: false },
  },
})
const eventCount = Number(values.events)
const batchSize = Number(values.batch)
const runs = Number(values.runs)
const STREAM = 'BENCH'
const AGGREGATES = 1_000

async function publishEvents(nc: NatsConnection): Promise<number> {
  const jsm = await nc.jetstreamManager()
  await jsm.streams.add({ name: STREAM, subjects: ['bench.>'], storage: StorageType.File })
  const js = nc.jetstream()
  const types = ['ItemAdded', 'ItemAdded', 'ItemRemoved', 'ItemAdded', 'ItemRenamed']
  let last = 0
  for (let start = 0; start < eventCount; start += 256) {
    const acks = []
    for (let i = start; i < Math.min(start + 256, eventCount); i++) {
      const subject = `bench.item.a${(i * 7919) % AGGREGATES}`
      const envelope: EventEnvelope = {
        id: `bench-${i}`,
        type: types[i % types.length]!,
        schemaVersion: 1,
        stream: STREAM,
        subject,
        occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 1_000).toISOString(),
        actor: 'user:bench',
        correlationId: `corr-${i}`,
        causationId: null,
        data: { itemId: `item-${i}`, quantity: i % 13, note: 'a typical small event body' },
      }
      acks.push(js.publish(subject, encodeEnvelope(envelope), { msgID: envelope.id }))
    }
    last = Math.max(last, ...(await Promise.all(acks)).map((ack) => ack.seq))
  }
  return last
}

/** The baseline: the same ordered consumer and pull size, each event decoded, nothing written. */
async function rawConsume(nc: NatsConnection, last: number): Promise<number> {
  const consumer = await nc.jetstream().consumers.get(STREAM, { opt_start_seq: 1 })
  const started = performance.now()
  let read = 0
  let seen = 0
  while (seen < last) {
    const messages = await consumer.fetch({ max_messages: batchSize, expires: 5_000 })
    for await (const message of messages) {
      decodeRecorded(message.data, message.seq)
      read++
      seen = message.seq
    }
  }
  const seconds = (performance.now() - started) / 1000
  await consumer.delete()
  if (read !== eventCount) throw new Error(`raw consume read ${read} of ${eventCount}`)
  return read / seconds
}

async function rebuild(
  nc: NatsConnection,
  database: Awaited<ReturnType<typeof createDatabase<ExampleDB>>>,
  projection: Projection<ExampleDB>,
  last: number,
): Promise<number> {
  const report = await rebuildProjection({
    nc,
    db: database.db,
    stream: STREAM,
    projection,
    batchSize,
    truncate: truncateAggregateCounts,
    log: silentLogger,
  })
  if (report.position !== last || report.processed !== eventCount) {
    throw new Error(`rebuild stopped at ${report.position} after ${report.processed} events`)
  }
  // The tables must hold every handled event exactly once (3 in 5 are adds, 1 in 5 removes).
  const { rows } = await sql<{ n: string }>`
    select sum(added + removed) as n from aggregate_counts`.execute(database.db)
  const handled = eventCount - Math.floor(eventCount / 5)
  if (Number(rows[0]?.n) !== handled) {
    throw new Error(`rebuilt tables count ${rows[0]?.n} events, expected ${handled}`)
  }
  return report.processed / (report.durationMs / 1000)
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'argmax-bench-projection-'))
  const parts: RunningPart[] = []
  try {
    parts.push(await startNats({ dataDir, port: await freePort(), monitorPort: await freePort() }))
    parts.push(await startPostgres({ dataDir, port: await freePort() }))
    const [nats, postgres] = parts as [RunningPart, RunningPart]
    const nc = await connect({ servers: nats.url })
    const database = await createDatabase<ExampleDB>({
      connectionString: postgres.url,
      schema: 'bench',
      poolMax: 4,
      log: silentLogger,
    })
    try {
      await migrateToLatest(database.db, 'bench', exampleMigrations)
      let started = performance.now()
      const last = await publishEvents(nc)
      const publishPerS = eventCount / ((performance.now() - started) / 1000)
      console.error(`published ${eventCount} events (${publishPerS.toFixed(0)}/s)`)

      // One untimed pass of each warms the file cache, the JIT and the pool.
      await rawConsume(nc, last)
      await rebuild(nc, database, aggregateCountsProjection, last)
      const raw: number[] = []
      const ours: number[] = []
      for (let run = 0; run < runs; run++) {
        raw.push(await rawConsume(nc, last))
        ours.push(await rebuild(nc, database, aggregateCountsProjection, last))
        console.error(
          `run ${run + 1}: raw ${raw.at(-1)!.toFixed(0)}/s, rebuild ${ours.at(-1)!.toFixed(0)}/s`,
        )
      }
      started = performance.now()
      const perEvent = values['per-event']
        ? await rebuild(nc, database, aggregateCountsEventProjection, last)
        : undefined

      const rawPerS = median(raw)
      const rebuildPerS = median(ours)
      const rows: Array<[string, number]> = [
        ['raw consume (ordered consumer, decode only)', rawPerS],
        ['rebuild into Postgres (batched upserts)', rebuildPerS],
        ...(perEvent ? [['rebuild, one upsert per event', perEvent] as [string, number]] : []),
      ]
      console.error(`\n${eventCount} events, batch ${batchSize}, median of ${runs} runs`)
      console.error(`${'what'.padEnd(46)} ${'events/s'.padStart(10)} ${'vs raw'.padStart(8)}`)
      for (const [what, perS] of rows) {
        console.error(
          `${what.padEnd(46)} ${perS.toFixed(0).padStart(10)} ${(perS / rawPerS).toFixed(3).padStart(8)}`,
        )
      }
      console.log(
        JSON.stringify({
          bench: 'projection-rebuild',
          events: eventCount,
          raw_consume_per_s: Math.round(rawPerS),
          rebuild_per_s: Math.round(rebuildPerS),
          ratio: Number((rebuildPerS / rawPerS).toFixed(3)),
        }),
      )
    } finally {
      await database.destroy()
      await nc.close()
    }
  } finally {
    for (const part of parts.reverse()) await part.stop().catch(() => undefined)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
