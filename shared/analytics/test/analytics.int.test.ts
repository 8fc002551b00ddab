import { gunzipSync } from 'node:zlib'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { UnavailableError } from '@argmax/errors'
import { freshBucket, freshClickhouseDatabase, stackEndpoints } from '@argmax/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import {
  analyticsMigrations,
  applyRetention,
  archiveKey,
  createAnalyticsClient,
  insertInChunks,
  listDays,
  migrateAnalytics,
  sqlStringArray,
  tsvNullableString,
  tsvNumber,
  tsvString,
  type AnalyticsClient,
  type AnalyticsMigration,
} from '../src/index.ts'

const clients: AnalyticsClient[] = []
afterAll(() => Promise.all(clients.map((c) => c.close())))

async function freshAnalytics(): Promise<AnalyticsClient> {
  const { database } = await freshClickhouseDatabase('analytics')
  const e = stackEndpoints()
  const client = createAnalyticsClient(
    { url: e.clickhouseUrl, user: e.clickhouseUser, password: e.clickhousePassword },
    { database },
  )
  clients.push(client)
  return client
}

describe('migrateAnalytics', () => {
  it('runs the migrations in name order once, records them, and runs nothing the second time', async () => {
    const client = await freshAnalytics()
    const first = analyticsMigrations.filter((m) => m.name === '2026_12_01_00_00_00_predictions')
    const second: AnalyticsMigration = {
      name: '2026_12_02_00_00_00_later',
      statements: [
        'CREATE VIEW IF NOT EXISTS {db}.prediction_count AS SELECT count() AS n FROM {db}.inference_log',
      ],
    }
    // Listed out of order: the view needs the table of the first one.
    expect(await migrateAnalytics(client, [second, ...first])).toEqual([
      '2026_12_01_00_00_00_predictions',
      '2026_12_02_00_00_00_later',
    ])
    expect(await migrateAnalytics(client, [second, ...first])).toEqual([])
    const tables = await client.query<{ name: string }>(
      `SELECT name FROM system.tables WHERE database = '${client.database}' ORDER BY name`,
    )
    expect(tables.map((t) => t.name)).toEqual([
      'analytics_migrations',
      'inference_log',
      'prediction_count',
      'predictions',
    ])
  })

  it('re-runs a migration whose record was lost (a crash after its DDL) without failing', async () => {
    const client = await freshAnalytics()
    await migrateAnalytics(client, analyticsMigrations)
    await client.command(`DROP TABLE ${client.database}.analytics_migrations`)
    expect(await migrateAnalytics(client, analyticsMigrations)).toEqual(
      analyticsMigrations.map((m) => m.name),
    )
  })

  it('refuses badly named or repeated migrations before running anything', async () => {
    const client = await freshAnalytics()
    await expect(
      migrateAnalytics(client, [{ name: 'predictions', statements: [] }]),
    ).rejects.toThrow(/must look like YYYY_MM_DD_HH_mm_ss_name/)
    await expect(
      migrateAnalytics(client, [...analyticsMigrations, ...analyticsMigrations]),
    ).rejects.toThrow(/listed twice/)
    const tables = await client.query(
      `SELECT name FROM system.tables WHERE database = '${client.database}'`,
    )
    expect(tables).toEqual([])
  })
})

describe('the analytics client', () => {
  it('compares text with a list of strings, the empty list included', async () => {
    const client = await freshAnalytics()
    const [row] = await client.query<{ none: number; second: number }>(
      `SELECT toInt32(indexOf(${sqlStringArray([])}, 'x')) AS none, toInt32(indexOf(${sqlStringArray(['a', "it's"])}, 'it''s')) AS second`,
    )
    expect(row).toEqual({ none: 0, second: 2 })
  })

  it('answers an unreachable server as UnavailableError naming clickhouse', async () => {
    const client = createAnalyticsClient(
      { url: 'http://127.0.0.1:1', user: 'default', password: '' },
      { database: 'argmax', requestTimeoutMs: 2_000 },
    )
    clients.push(client)
    const failure = await client.query('SELECT 1').catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(UnavailableError)
    expect((failure as UnavailableError).details['dependency']).toBe('clickhouse')
  })

  it('leaves a bad query as the server said it, not a 503', async () => {
    const client = await freshAnalytics()
    const failure = await client.query('SELECT * FROM no_such_table').catch((e: unknown) => e)
    expect(failure).not.toBeInstanceOf(UnavailableError)
    expect((failure as Error).message).toMatch(/Code: 60/)
  })

  it('inserts JSONEachRow in chunks and reads the rows back', async () => {
    const client = await freshAnalytics()
    await client.command(
      `CREATE TABLE ${client.database}.t (id UInt32, name String) ENGINE = MergeTree() ORDER BY id`,
    )
    const rows = Array.from({ length: 2_500 }, (_, id) => ({ id, name: `n${id}` }))
    await insertInChunks(client, 't', rows, 1_000)
    const [count] = await client.query<{ n: string }>('SELECT count() AS n FROM t')
    expect(Number(count!.n)).toBe(2_500)
    const parts = await client.query<{ n: string }>(
      `SELECT count() AS n FROM system.parts WHERE database = '${client.database}' AND table = 't'`,
    )
    expect(Number(parts[0]!.n)).toBeGreaterThanOrEqual(1)
  })

  it('inserts TabSeparated text whose fields hold what TabSeparated reserves, and NULLs', async () => {
    const client = await freshAnalytics()
    await client.command(
      `CREATE TABLE ${client.database}.t (id UInt32, name String, label Nullable(String), x Nullable(Float64)) ENGINE = MergeTree() ORDER BY id`,
    )
    const rows = [
      { id: 1, name: 'tab\there, newline\nthere', label: 'back\\slash \\N', x: 0.1 + 0.2 },
      { id: 2, name: 'carriage\rreturn', label: null, x: 1e-7 },
      { id: 3, name: '', label: '', x: null },
      { id: 4, name: 'ünïcødé ✓', label: '\\t', x: -123456789.125 },
    ]
    const text = rows
      .map(
        (r) => `${r.id}\t${tsvString(r.name)}\t${tsvNullableString(r.label)}\t${tsvNumber(r.x)}\n`,
      )
      .join('')
    await client.insertTabSeparated('t', ['id', 'name', 'label', 'x'], text)
    const back = await client.query<{ id: number; name: string; label: string | null; x: number }>(
      'SELECT id, name, label, x FROM t ORDER BY id',
    )
    expect(back).toEqual(rows)
    // The same text as UTF-8 bytes (how a sink writing into a buffer sends it) reads back alike.
    await client.command(`CREATE TABLE ${client.database}.t_bytes AS ${client.database}.t`)
    await client.insertTabSeparated('t_bytes', ['id', 'name', 'label', 'x'], Buffer.from(text))
    expect(await client.query('SELECT id, name, label, x FROM t_bytes ORDER BY id')).toEqual(rows)
    expect(() => tsvNumber(Number.NaN)).toThrow(RangeError)
  })
})

describe('applyRetention', () => {
  const row = (id: string, date: string) => ({
    prediction_id: id,
    request_id: `r-${id}`,
    time: `${date} 12:00:00`,
    time_ms: 5,
    date,
    model: 'movies',
    version: 1,
    variant: 'stable',
    release_sequence: 3,
    caller: 'alice',
    protocol: 'rest',
    status: 'success',
    error: '',
    latency_ms: 1.5,
    inputs: '{"budget":1}',
    outputs: '{"predictions":7.1}',
    prediction: 7.1,
    predicted_class: null,
    batch_id: '',
    row_index: 0,
  })

  it('archives each expired day to S3 without duplicates, then drops it; younger days stay', async () => {
    const client = await freshAnalytics()
    await migrateAnalytics(client, analyticsMigrations)
    const { bucket, s3 } = await freshBucket('analytics')
    const old = [row('a', '2026-10-01'), row('b', '2026-10-01'), row('c', '2026-10-15')]
    await client.insert('predictions', old)
    await client.insert('predictions', [row('a', '2026-10-01')]) // a re-sent batch
    await client.insert('predictions', [row('d', '2026-11-20')])
    expect(await listDays(client, 'predictions')).toEqual([
      '2026-10-01',
      '2026-10-15',
      '2026-11-20',
    ])

    const archived = await applyRetention({
      client,
      s3,
      bucket,
      table: 'predictions',
      dateColumn: 'date',
      retentionDays: 30,
      prefix: 'archive',
      // 30 days before 2026-11-20 is 2026-10-21: the two October days go.
      now: () => new Date('2026-11-20T08:00:00Z'),
    })
    expect(archived.map(({ date, rows, key }) => ({ date, rows, key }))).toEqual([
      { date: '2026-10-01', rows: 2, key: archiveKey('archive', 'predictions', '2026-10-01') },
      { date: '2026-10-15', rows: 1, key: archiveKey('archive', 'predictions', '2026-10-15') },
    ])
    expect(await listDays(client, 'predictions')).toEqual(['2026-11-20'])

    // The archive reloads as it was: JSON Lines of the table's columns.
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: archived[0]!.key }))
    const text = gunzipSync(Buffer.from(await object.Body!.transformToByteArray())).toString()
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines.map((l) => l['prediction_id']).sort()).toEqual(['a', 'b'])
    await client.insert('predictions', lines)
    const [back] = await client.query<{ n: string }>(
      "SELECT count() AS n FROM inference_log WHERE date = '2026-10-01'",
    )
    expect(Number(back!.n)).toBe(2)

    // Nothing is left to do on the same day.
    await client.command(`ALTER TABLE ${client.database}.predictions DROP PARTITION '2026-10-01'`)
    expect(
      await applyRetention({
        client,
        s3,
        bucket,
        table: 'predictions',
        dateColumn: 'date',
        retentionDays: 30,
        prefix: 'archive',
        now: () => new Date('2026-11-20T08:00:00Z'),
      }),
    ).toEqual([])
  })
})
