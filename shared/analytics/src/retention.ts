import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { AnalyticsClient } from './client.ts'
import { clickhouseDate } from './migrations.ts'

/**
 * Retention for day-partitioned tables on servers without TTL (18.16): a day older than the
 * retention is archived to S3 first — every row of it, read with FINAL so duplicates a re-sent
 * batch left are not archived — as gzip-compressed JSON Lines (one JSONEachRow object a line,
 * the table's column names), then its partition is dropped. Analysts reload an archive with
 *   curl … | gunzip | clickhouse-client --query 'INSERT INTO argmax.predictions FORMAT JSONEachRow'
 * or read it with any JSON Lines tool. A day is dropped only after its object is in S3 with the
 * row count read back; a run that dies between the two archives the day again next time (the
 * object is overwritten with the same rows).
 */
export interface RetentionOptions {
  client: AnalyticsClient
  s3: S3Client
  bucket: string
  /** Table of `client.database`, partitioned by a Date column. */
  table: string
  /** The table's Date partition column. */
  dateColumn: string
  /** Days kept: a day whose date is before today − retentionDays is archived and dropped. */
  retentionDays: number
  /** Key prefix of the archives: `<prefix>/<table>/date=YYYY-MM-DD/rows.jsonl.gz`. */
  prefix: string
  now: () => Date
}

/**
 * How long after a process starts its retention first runs: soon, so a retention that runs daily
 * is still applied by a process restarted more often than that.
 */
export const RETENTION_FIRST_RUN_MS = 10_000

export interface ArchivedDay {
  date: string
  rows: number
  key: string
  bytes: number
}

const DAY_MS = 24 * 3600 * 1000

/** The object key a day of a table is archived under. */
export function archiveKey(prefix: string, table: string, date: string): string {
  return `${prefix.replace(/\/+$/, '')}/${table}/date=${date}/rows.jsonl.gz`
}

/** The days (`YYYY-MM-DD`) a table holds in active parts, oldest first. */
export async function listDays(client: AnalyticsClient, table: string): Promise<string[]> {
  const rows = await client.query<{ partition: string }>(
    `SELECT DISTINCT partition FROM system.parts ` +
      `WHERE database = '${client.database}' AND table = '${table}' AND active ORDER BY partition`,
  )
  // 18.16 shows a Date partition as 2026-11-30, current servers may quote it: '2026-11-30'.
  return rows.map((row) => row.partition.replace(/'/g, ''))
}

/** Archives and drops every day older than the retention; answers what it archived. */
export async function applyRetention(options: RetentionOptions): Promise<ArchivedDay[]> {
  const cutoff = clickhouseDate(new Date(options.now().getTime() - options.retentionDays * DAY_MS))
  const archived: ArchivedDay[] = []
  for (const date of await listDays(options.client, options.table)) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || date >= cutoff) continue
    archived.push(await archiveDay(options, date))
    await options.client.command(
      `ALTER TABLE ${options.client.database}.${options.table} DROP PARTITION '${date}'`,
    )
  }
  return archived
}

/** Writes one day's rows to S3 and checks the object holds them all. */
export async function archiveDay(options: RetentionOptions, date: string): Promise<ArchivedDay> {
  const { client, table } = options
  const where = `${options.dateColumn} = '${date}'`
  const [expected] = await client.query<{ n: string }>(
    `SELECT count() AS n FROM ${client.database}.${table} FINAL WHERE ${where}`,
  )
  const source = await client.queryStream(
    `SELECT * FROM ${client.database}.${table} FINAL WHERE ${where}`,
    'JSONEachRow',
  )
  let lines = 0
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++
      done(null, chunk)
    },
  })
  const gzip = createGzip()
  const key = archiveKey(options.prefix, table, date)
  const upload = new Upload({
    client: options.s3,
    params: {
      Bucket: options.bucket,
      Key: key,
      Body: gzip,
      // Not Content-Encoding: clients would unzip it on download and the .gz name would lie.
      ContentType: 'application/gzip',
    },
  })
  await Promise.all([pipeline(source as Readable, counter, gzip), upload.done()])
  const rows = Number(expected?.n ?? 0)
  if (lines !== rows) {
    throw new Error(
      `archiving ${table} ${date}: ${lines} rows written, ${rows} expected; the day is kept`,
    )
  }
  const head = await options.s3.send(new HeadObjectCommand({ Bucket: options.bucket, Key: key }))
  return { date, rows, key, bytes: head.ContentLength ?? 0 }
}
