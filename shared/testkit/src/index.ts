import { randomBytes } from 'node:crypto'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client'
import { connect, type NatsConnection } from 'nats'
import pg from 'pg'
import { inject } from 'vitest'
import { endpointsToEnv, type StackEndpoints } from '@argmax/stack'
import './provided-context.ts'

export type { StackEndpoints }
/** How a test runs one of the repository's entry points as a process of its own. */
export { launchArgs } from '@argmax/stack'
export * from './api-calls.ts'
export * from './eventually.ts'

/** Closed after the test file (`file-setup.ts`): whatever a helper opened for it. */
const cleanups: Array<() => Promise<unknown>> = []

/**
 * Closes what the helpers opened since the last call. Called by the setup file after each test
 * file: an `afterAll` here would be registered once only, for the first file of a process that
 * keeps its modules between files (the int project's `isolate: false`).
 */
export async function closeOpened(): Promise<void> {
  await Promise.allSettled(cleanups.splice(0).map((cleanup) => cleanup()))
}

export function stackEndpoints(): StackEndpoints {
  return inject('stack')
}

/** The ARGMAX_* variables a service's config loader reads to reach the test stack. */
export function stackEnv(): Record<string, string> {
  return endpointsToEnv(stackEndpoints())
}

/** A name no other test uses: letters, digits and underscores, valid for streams and schemas. */
export function uniqueName(prefix: string): string {
  return `${prefix.replace(/[^a-zA-Z0-9_]/g, '_')}_${randomBytes(5).toString('hex')}`
}

export async function connectNats(): Promise<NatsConnection> {
  const nc = await connect({ servers: stackEndpoints().natsUrl })
  cleanups.push(() => nc.close())
  return nc
}

export function createPool(max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: stackEndpoints().postgresUrl, max })
  cleanups.push(() => pool.end())
  return pool
}

export async function freshSchema(prefix: string): Promise<{ schema: string; pool: pg.Pool }> {
  const schema = uniqueName(prefix).toLowerCase()
  const pool = createPool()
  await pool.query(`create schema "${schema}"`)
  return { schema, pool }
}

export function s3Client(): S3Client {
  const { s3 } = stackEndpoints()
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    forcePathStyle: true,
    // s3rver stores aws-chunked bodies verbatim; only send checksums when an operation needs one.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  cleanups.push(async () => client.destroy())
  return client
}

export async function freshBucket(prefix: string): Promise<{ bucket: string; s3: S3Client }> {
  const bucket = uniqueName(prefix).toLowerCase().replace(/_/g, '-')
  const s3 = s3Client()
  await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  return { bucket, s3 }
}

/**
 * A client of the stack's ClickHouse as the writer, or as the read-only analyst. `quiet` for a
 * test that expects refusals: the client would log each one as an error.
 */
export function clickhouseClient(
  options: { database?: string; analyst?: boolean; quiet?: boolean } = {},
): ClickHouseClient {
  const endpoints = stackEndpoints()
  const client = createClient({
    url: endpoints.clickhouseUrl,
    username: options.analyst ? endpoints.clickhouseAnalystUser : endpoints.clickhouseUser,
    password: options.analyst ? endpoints.clickhouseAnalystPassword : endpoints.clickhousePassword,
    ...(options.database ? { database: options.database } : {}),
    ...(options.quiet ? { log: { level: ClickHouseLogLevel.OFF } } : {}),
  })
  cleanups.push(() => client.close())
  return client
}

export async function freshClickhouseDatabase(
  prefix: string,
): Promise<{ database: string; client: ClickHouseClient }> {
  const database = uniqueName(prefix).toLowerCase()
  await clickhouseClient().command({ query: `CREATE DATABASE ${database}` })
  return { database, client: clickhouseClient({ database }) }
}
