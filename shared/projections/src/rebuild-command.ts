import { ValidationError } from '@argmax/errors'
import type { RecordedEvent } from '@argmax/events'
import type { Migration, Transaction } from 'kysely'
import { connect } from 'nats'
import { createDatabase } from './database.ts'
import type { ProjectionLogger } from './logger.ts'
import { migrateToLatest } from './migrate.ts'
import type { Projection } from './projection.ts'
import { rebuildProjection, type RebuildReport } from './rebuild.ts'

/** How a service declares one projection: what it reads, and how to empty what it writes. */
export interface ProjectionRegistration<DB> {
  projection: Projection<DB>
  stream: string
  truncate(trx: Transaction<DB>): Promise<void>
  upcast?: (event: RecordedEvent) => RecordedEvent
  batchSize?: number
  /** Backoff after a failure while running (see startProjection); rebuilds fail fast instead. */
  retry?: { minDelayMs?: number; maxDelayMs?: number }
}

/** What a service exports so tools (the CLI) can operate on its projections. */
export interface ServiceProjections<DB> {
  service: string
  schema: string
  migrations: Record<string, Migration>
  projections: readonly ProjectionRegistration<DB>[]
}

export interface RebuildCommandOptions<DB> {
  natsUrl: string
  postgresUrl: string
  service: ServiceProjections<DB>
  /** The projection's name, as in `argmax projections rebuild <service> <name>`. */
  name: string
  timeoutMs?: number
  log: ProjectionLogger
}

export function findRegistration<DB>(
  service: ServiceProjections<DB>,
  name: string,
): ProjectionRegistration<DB> {
  const found = service.projections.find((entry) => entry.projection.name === name)
  if (!found) {
    const known = service.projections.map((entry) => entry.projection.name).join(', ')
    throw ValidationError.field(
      'name',
      `service ${service.service} has no projection '${name}' (it has: ${known || 'none'})`,
    )
  }
  return found
}

/**
 * `argmax projections rebuild <service> <name>`: opens its own connections, brings the schema
 * up to date (so it also works on an empty database), rebuilds, and closes everything.
 */
export async function rebuildServiceProjection<DB>(
  options: RebuildCommandOptions<DB>,
): Promise<RebuildReport> {
  const registration = findRegistration(options.service, options.name)
  const nc = await connect({ servers: options.natsUrl })
  try {
    const database = await createDatabase<DB>({
      connectionString: options.postgresUrl,
      schema: options.service.schema,
      poolMax: 2,
      log: options.log,
    })
    try {
      await migrateToLatest(database.db, options.service.schema, options.service.migrations)
      return await rebuildProjection({
        nc,
        db: database.db,
        stream: registration.stream,
        projection: registration.projection,
        truncate: registration.truncate,
        ...(registration.upcast ? { upcast: registration.upcast } : {}),
        ...(registration.batchSize ? { batchSize: registration.batchSize } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        log: options.log,
      })
    } finally {
      await database.destroy()
    }
  } finally {
    await nc.close()
  }
}
