import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import {
  connectNats,
  freshBucket,
  freshClickhouseDatabase,
  freshSchema,
  uniqueName,
} from '../src/index.ts'

describe('test kit', () => {
  it('gives a working JetStream', async () => {
    const nc = await connectNats()
    const jsm = await nc.jetstreamManager()
    const name = uniqueName('KIT')
    await jsm.streams.add({ name, subjects: [`${name}.>`] })
    const ack = await nc.jetstream().publish(`${name}.a`, new TextEncoder().encode('x'))
    expect(ack.seq).toBe(1)
  })

  it('gives a fresh Postgres schema', async () => {
    const { schema, pool } = await freshSchema('kit')
    await pool.query(`create table "${schema}".t (n int)`)
    await pool.query(`insert into "${schema}".t values (41), (1)`)
    const { rows } = await pool.query(`select sum(n)::int as total from "${schema}".t`)
    expect(rows[0].total).toBe(42)
  })

  it('gives a fresh bucket that round-trips an object', async () => {
    const { bucket, s3 } = await freshBucket('kit')
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/b.txt', Body: 'hello' }))
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b.txt' }))
    expect(await got.Body?.transformToString()).toBe('hello')
  })

  it('gives a fresh ClickHouse database to write and read', async () => {
    const { database, client } = await freshClickhouseDatabase('kit')
    await client.command({
      query: `CREATE TABLE ${database}.t (n UInt32) ENGINE = MergeTree ORDER BY n`,
    })
    await client.insert({
      table: `${database}.t`,
      values: [{ n: 1 }, { n: 2 }],
      format: 'JSONEachRow',
    })
    const result = await client.query({
      query: `SELECT sum(n) AS total FROM ${database}.t`,
      format: 'JSONEachRow',
    })
    expect(await result.json()).toEqual([{ total: '3' }])
  })
})
