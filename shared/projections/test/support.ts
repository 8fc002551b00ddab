import { Writable } from 'node:stream'
import { encodeEnvelope, type EventEnvelope } from '@argmax/events'
import { createLogger, type Logger } from '@argmax/telemetry'
import { createPool, stackEndpoints, uniqueName } from '@argmax/testkit'
import { sql, type Kysely } from 'kysely'
import { StorageType, type NatsConnection } from 'nats'
import { onTestFinished } from 'vitest'
import { createDatabase, type Database } from '../src/database.ts'
import { exampleMigrations, type ExampleDB } from '../src/example/index.ts'
import { silentLogger } from '../src/logger.ts'
import { migrateToLatest } from '../src/migrate.ts'

/** What the tests publish: an item event on one of a few aggregates. */
export interface ScriptedEvent {
  type: 'ItemAdded' | 'ItemRemoved' | 'ItemRenamed'
  aggregate: string
}

/** A deterministic mix: mostly adds, some removes, and renames the projection ignores. */
export function scriptedEvents(count: number, aggregates = 7): ScriptedEvent[] {
  const types = ['ItemAdded', 'ItemAdded', 'ItemRemoved', 'ItemAdded', 'ItemRenamed'] as const
  return Array.from({ length: count }, (_, i) => ({
    type: types[i % types.length]!,
    aggregate: `agg${(i * 3) % aggregates}`,
  }))
}

/** A fresh stream `<NAME>` over subjects `<name>.item.>`. */
export async function freshStream(nc: NatsConnection, prefix = 'PROJ'): Promise<string> {
  const stream = uniqueName(prefix).toUpperCase()
  const jsm = await nc.jetstreamManager()
  await jsm.streams.add({
    name: stream,
    subjects: [`${stream.toLowerCase()}.>`],
    storage: StorageType.File,
  })
  return stream
}

/** Publishes with a bounded number in flight; returns the stream sequences in order. */
export async function publishEvents(
  nc: NatsConnection,
  stream: string,
  events: readonly ScriptedEvent[],
  startIndex = 0,
): Promise<number[]> {
  const js = nc.jetstream()
  const sequences: number[] = []
  for (let start = 0; start < events.length; start += 64) {
    const chunk = events.slice(start, start + 64)
    const acks = await Promise.all(
      chunk.map((event, offset) => {
        const index = startIndex + start + offset
        const subject = `${stream.toLowerCase()}.item.${event.aggregate}`
        const envelope: EventEnvelope = {
          id: `${stream}-${index}`,
          type: event.type,
          schemaVersion: 1,
          stream,
          subject,
          occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, index % 60)).toISOString(),
          actor: 'test',
          correlationId: `corr-${index}`,
          causationId: null,
          data: { index },
        }
        return js.publish(subject, encodeEnvelope(envelope), { msgID: envelope.id })
      }),
    )
    sequences.push(...acks.map((ack) => ack.seq))
  }
  return sequences.sort((a, b) => a - b)
}

/**
 * A fresh schema with the example's tables, its pool closed when the test that asked for it
 * ends (`onTestFinished`: an `afterAll` registered while a test runs belongs to no suite).
 */
export async function exampleDatabase(prefix = 'proj'): Promise<Database<ExampleDB>> {
  const schema = uniqueName(prefix).toLowerCase()
  const database = await createDatabase<ExampleDB>({
    connectionString: stackEndpoints().postgresUrl,
    schema,
    poolMax: 4,
    log: silentLogger,
  })
  onTestFinished(() => database.destroy())
  await migrateToLatest(database.db, schema, exampleMigrations)
  return database
}

/** Every row of the projection's table, in a stable order: what "same tables" compares. */
export async function dumpCounts(db: Kysely<ExampleDB>) {
  return db.selectFrom('aggregate_counts').selectAll().orderBy('aggregate_id').execute()
}

export async function storedCheckpoint(db: Kysely<ExampleDB>, name: string, stream: string) {
  const row = await db
    .selectFrom('projection_checkpoints')
    .select('position')
    .where('name', '=', name)
    .where('stream', '=', stream)
    .executeTakeFirst()
  return row ? Number(row.position) : undefined
}

/** What the example projection must hold, computed without it. */
export function expectedCounts(events: readonly ScriptedEvent[], sequences: readonly number[]) {
  const rows = new Map<
    string,
    {
      aggregate_id: string
      added: number
      removed: number
      last_sequence: string
      last_event_type: string
    }
  >()
  events.forEach((event, i) => {
    if (event.type === 'ItemRenamed') return
    const row = rows.get(event.aggregate) ?? {
      aggregate_id: event.aggregate,
      added: 0,
      removed: 0,
      last_sequence: '0',
      last_event_type: '',
    }
    if (event.type === 'ItemAdded') row.added++
    else row.removed++
    row.last_sequence = String(sequences[i])
    row.last_event_type = event.type
    rows.set(event.aggregate, row)
  })
  return [...rows.values()].sort((a, b) => (a.aggregate_id < b.aggregate_id ? -1 : 1))
}

export async function truncateAll(db: Kysely<ExampleDB>): Promise<void> {
  await sql`truncate table aggregate_counts`.execute(db)
}

/** A pino logger of the service kind whose JSON lines the test can read back. */
export function captureLogger(): { logger: Logger; lines(): Array<Record<string, unknown>> } {
  const written: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString())
      done()
    },
  })
  return {
    logger: createLogger({ service: 'projections-test', destination }),
    lines: () =>
      written
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  }
}

/**
 * A login role with the rights a service has on `schema`, that the test can lock out (no login,
 * its sessions terminated) and let back in: a real PostgreSQL outage for that role's pool.
 */
export async function lockableRole(schema: string) {
  const admin = createPool(2)
  const role = uniqueName('proj_role').toLowerCase()
  const password = uniqueName('pw')
  await admin.query(`create role ${role} login password '${password}'`)
  const database = new URL(stackEndpoints().postgresUrl).pathname.slice(1)
  await admin.query(`grant create on database "${database}" to ${role}`)
  await admin.query(`grant usage, create on schema "${schema}" to ${role}`)
  await admin.query(`grant all on all tables in schema "${schema}" to ${role}`)
  const url = new URL(stackEndpoints().postgresUrl)
  url.username = role
  url.password = password
  return {
    url: url.toString(),
    async lockOut() {
      await admin.query(`alter role ${role} nologin`)
      await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where usename = $1`,
        [role],
      )
    },
    async letIn() {
      await admin.query(`alter role ${role} login`)
    },
    async drop() {
      await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where usename = $1`,
        [role],
      )
      await admin.query(`drop owned by ${role}`)
      await admin.query(`drop role ${role}`)
    },
  }
}
