import { execFile } from 'node:child_process'
import type { ClickHouseClient } from '@clickhouse/client'
import { analystLimits } from '@argmax/stack'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  clickhouseClient,
  freshClickhouseDatabase,
  stackEndpoints,
  uniqueName,
} from '../src/index.ts'

/**
 * The analyst account of the stack's ClickHouse, as an analyst would use it: through
 * `@clickhouse/client` (HTTP) and through the `clickhouse-client` binary (native protocol).
 * Reads of the platform's database are allowed; every write, every way of lifting readonly,
 * and every other database are refused; the limits hold.
 */

interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** `clickhouse-client` as the analyst, with extra flags (e.g. `--readonly=0`). */
function analystCli(query: string, ...flags: string[]): Promise<CliRun> {
  const { clickhouseNativePort, clickhouseAnalystUser, clickhouseAnalystPassword } =
    stackEndpoints()
  const args = [
    '--host=127.0.0.1',
    `--port=${clickhouseNativePort}`,
    `--user=${clickhouseAnalystUser}`,
    `--password=${clickhouseAnalystPassword}`,
    ...flags,
    `--query=${query}`,
  ]
  return new Promise((resolve) => {
    execFile(
      'clickhouse-client',
      args,
      { timeout: 60_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>()
}

/** What `clickhouse-client` says when the server refuses a query: its code and message. */
function refusal(run: CliRun): string {
  expect(run.code, run.stdout).not.toBe(0)
  return run.stderr
}

describe('the ClickHouse analyst', () => {
  const { clickhouseDatabase: database } = stackEndpoints()
  const table = `${database}.${uniqueName('analyst')}`
  let writer: ClickHouseClient
  let analyst: ClickHouseClient
  let elsewhere: string

  const count = async () =>
    (await rows<{ n: string }>(writer, `SELECT count() AS n FROM ${table}`))[0]!.n
  const columns = async () =>
    (
      await rows<{ name: string }>(
        writer,
        `SELECT name FROM system.columns WHERE database = '${database}' AND table = '${table.split('.')[1]}'`,
      )
    ).map((c) => c.name)

  beforeAll(async () => {
    writer = clickhouseClient()
    analyst = clickhouseClient({ analyst: true, quiet: true })
    await writer.command({
      query: `CREATE TABLE ${table} (n UInt32, label String) ENGINE = MergeTree ORDER BY n`,
    })
    await writer.insert({
      table,
      values: [
        { n: 1, label: 'a' },
        { n: 2, label: 'b' },
      ],
      format: 'JSONEachRow',
    })
    const other = await freshClickhouseDatabase('analyst_other')
    elsewhere = `${other.database}.t`
    await other.client.command({ query: `CREATE TABLE ${elsewhere} (n UInt32) ENGINE = Memory` })
    await other.client.command({ query: `INSERT INTO ${elsewhere} VALUES (7)` })
  })

  it('reads the platform database through @clickhouse/client and clickhouse-client', async () => {
    expect(await rows(analyst, `SELECT n, label FROM ${table} ORDER BY n`)).toEqual([
      { n: 1, label: 'a' },
      { n: 2, label: 'b' },
    ])
    const withDatabase = clickhouseClient({ analyst: true, database })
    expect(await rows(withDatabase, `SELECT sum(n) AS total FROM ${table.split('.')[1]}`)).toEqual([
      { total: '3' },
    ])

    const cli = await analystCli(`SELECT n, label FROM ${table} ORDER BY n FORMAT TSV`)
    expect(cli.code, cli.stderr).toBe(0)
    expect(cli.stdout).toBe('1\ta\n2\tb\n')
    const inDatabase = await analystCli(
      `SELECT count() FROM ${table.split('.')[1]}`,
      `--database=${database}`,
    )
    expect(inDatabase.code, inDatabase.stderr).toBe(0)
    expect(inDatabase.stdout).toBe('2\n')
  })

  it('sees no other database, with either client', async () => {
    await expect(rows(analyst, `SELECT n FROM ${elsewhere}`)).rejects.toThrow(
      /Code: 291.*Access denied to database/,
    )
    expect(refusal(await analystCli(`SELECT n FROM ${elsewhere}`))).toMatch(
      /Code: 291.*Access denied to database/,
    )
    const databases = await analystCli('SHOW DATABASES')
    expect(databases.stdout.trim().split('\n').sort()).toEqual([database, 'system'])
  })

  const writes = () => [
    `CREATE TABLE ${database}.${uniqueName('made')} (n UInt8) ENGINE = Memory`,
    `CREATE DATABASE ${uniqueName('made')}`,
    `CREATE TEMPORARY TABLE ${uniqueName('tmp')} (n UInt8)`,
    `INSERT INTO ${table} VALUES (3, 'c')`,
    `ALTER TABLE ${table} ADD COLUMN extra UInt8`,
    `ALTER TABLE ${table} DELETE WHERE n = 1`,
    `RENAME TABLE ${table} TO ${table}_renamed`,
    `OPTIMIZE TABLE ${table}`,
    `TRUNCATE TABLE ${table}`,
    `DETACH TABLE ${table}`,
    `DROP TABLE ${table}`,
    `DROP DATABASE ${database}`,
  ]

  it('is refused every write through @clickhouse/client, and nothing changes', async () => {
    for (const query of writes()) {
      await expect(analyst.command({ query }), query).rejects.toThrow(/Code: 164.*readonly mode/)
    }
    await expect(
      analyst.insert({ table, values: [{ n: 4, label: 'd' }], format: 'JSONEachRow' }),
    ).rejects.toThrow(/Code: 164.*readonly mode/)
    expect(await count()).toBe('2')
    expect(await columns()).toEqual(['n', 'label'])
  })

  it('is refused every write through clickhouse-client, and nothing changes', async () => {
    for (const query of writes()) {
      expect(refusal(await analystCli(query)), query).toMatch(/Code: 164.*readonly mode/)
    }
    expect(await count()).toBe('2')
    expect(await columns()).toEqual(['n', 'label'])
  })

  it('cannot lift readonly: not with SET, not as a query setting, not as a client flag', async () => {
    await expect(analyst.command({ query: 'SET readonly = 0' })).rejects.toThrow(
      /Code: 164.*Cannot execute SET query in readonly mode/,
    )
    await expect(
      analyst.command({
        query: `INSERT INTO ${table} VALUES (5, 'e')`,
        clickhouse_settings: { readonly: '0' },
      }),
    ).rejects.toThrow(/Code: 164.*Cannot override setting \(readonly\) in readonly mode/)

    expect(refusal(await analystCli('SET readonly = 0'))).toMatch(
      /Code: 164.*Cannot execute SET query in readonly mode/,
    )
    expect(
      refusal(await analystCli(`SET readonly = 0; INSERT INTO ${table} VALUES (5, 'e')`, '-n')),
    ).toMatch(/Code: 164.*readonly mode/)
    // The native protocol does not refuse a flag's setting: the server ignores it.
    expect(
      refusal(await analystCli(`INSERT INTO ${table} VALUES (5, 'e')`, '--readonly=0')),
    ).toMatch(/Code: 164.*Cannot insert into table in readonly mode/)
    expect(await count()).toBe('2')
  })

  it('runs under its limits, which it cannot raise', async () => {
    const expected = {
      readonly: '1',
      max_execution_time: String(analystLimits.maxExecutionSeconds),
      max_memory_usage: String(analystLimits.maxMemoryBytes),
      max_result_rows: String(analystLimits.maxResultRows),
    }
    const settingsQuery = `SELECT name, value FROM system.settings WHERE name IN (${Object.keys(
      expected,
    )
      .map((name) => `'${name}'`)
      .join(', ')}) FORMAT TSV`
    const applied = (run: CliRun) =>
      Object.fromEntries(
        run.stdout
          .trim()
          .split('\n')
          .map((line) => line.split('\t')),
      )
    expect(applied(await analystCli(settingsQuery))).toEqual(expected)
    // Flags asking for more are ignored by the native protocol…
    expect(
      applied(await analystCli(settingsQuery, '--max_execution_time=0', '--max_memory_usage=0')),
    ).toEqual(expected)
    // …and refused over HTTP.
    for (const setting of ['max_execution_time', 'max_memory_usage', 'max_result_rows']) {
      await expect(
        analyst.query({ query: 'SELECT 1', clickhouse_settings: { [setting]: '0' } }),
      ).rejects.toThrow(new RegExp(`Cannot override setting \\(${setting}\\) in readonly mode`))
    }

    // In force: a query over 1 GB of memory (three arrays of ~400 MB) and a result over a
    // million rows are stopped, even with a flag asking for no memory limit.
    const memory = await analystCli(
      'SELECT length(range(100000000)) + length(range(99999999)) + length(range(99999998))',
      '--max_memory_usage=0',
    )
    expect(refusal(memory)).toMatch(/Code: 241.*Memory limit \(for query\) exceeded/)
    const tooMany = `SELECT number FROM system.numbers LIMIT ${analystLimits.maxResultRows + 1}`
    expect(refusal(await analystCli(tooMany))).toMatch(/Code: 396.*Limit for result exceeded/)
    // Over HTTP, 18.16 has sent the first rows with a 200 before it stops: the error ends the body.
    await expect(rows(analyst, tooMany)).rejects.toThrow(/Code: 396/)
    // Table functions (url, file, remote…) reach outside the granted database: refused.
    await expect(rows(analyst, 'SELECT count() FROM numbers(10)')).rejects.toThrow(
      /Code: 164.*Table functions are forbidden in readonly mode/,
    )
  })
})
