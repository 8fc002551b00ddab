import { describe, expect, it } from 'vitest'
import { expectOk, validate } from './validation-helpers.ts'

const CITIES_JSONL = [
  '{"id":1,"city":"Oslo","temp":-3.5,"ok":true,"at":"2024-03-01T08:00:00+01:00"}',
  '{"id":2,"city":"Lima","temp":18,"ok":false,"extra":{"a":1}}',
  '',
  '{"id":3,"city":"Oslo","temp":null,"ok":true,"at":"2024-03-02"}',
].join('\r\n')

describe('validateAndProfile on a JSON Lines file', () => {
  it('takes the union of keys as columns, missing keys as nulls', async () => {
    const result = expectOk(await validate(CITIES_JSONL, 'jsonl', { chunkSize: 5 }))
    expect(result.rowCount).toBe(3)
    expect(result.schema).toEqual([
      { name: 'id', type: 'integer', nullable: false, widenings: [] },
      { name: 'city', type: 'string', nullable: false, widenings: [] },
      { name: 'temp', type: 'float', nullable: true, widenings: [] },
      { name: 'ok', type: 'boolean', nullable: false, widenings: [] },
      { name: 'at', type: 'timestamp', nullable: true, widenings: [] },
      { name: 'extra', type: 'string', nullable: true, widenings: [] },
    ])
  })

  it('profiles each column exactly', async () => {
    const { profile } = expectOk(await validate(CITIES_JSONL, 'jsonl'))
    const [id, city, temp, ok, at, extra] = profile.columns
    expect(id!.numeric).toMatchObject({ min: 1, max: 3, mean: 2, std: 1 })
    expect(city).toMatchObject({
      count: 3,
      nulls: 0,
      distinct: 2,
      topValues: [
        { value: 'Oslo', count: 2 },
        { value: 'Lima', count: 1 },
      ],
    })
    // -3.5 and 18: mean 7.25, sample variance 2·10.75² = 231.125.
    expect(temp).toMatchObject({ count: 2, nulls: 1 })
    expect(temp!.numeric).toMatchObject({
      min: -3.5,
      max: 18,
      mean: 7.25,
      std: Math.sqrt(231.125),
    })
    expect(ok!.topValues).toEqual([
      { value: 'true', count: 2 },
      { value: 'false', count: 1 },
    ])
    // The offset is applied: 08:00+01:00 is 07:00 UTC.
    expect(at).toMatchObject({ count: 2, nulls: 1 })
    expect(at!.timestamp).toEqual({
      min: '2024-03-01T07:00:00.000Z',
      max: '2024-03-02T00:00:00.000Z',
    })
    expect(extra).toMatchObject({ count: 1, nulls: 2, topValues: [{ value: '{"a":1}', count: 1 }] })
  })

  it('keeps JSON types: a quoted number is text, and numbers then text widen to string', async () => {
    const jsonl = '{"a":"12","b":1}\n{"a":"13","b":"x"}\n{"a":"","b":2.5}\n'
    const result = expectOk(await validate(jsonl, 'jsonl'))
    expect(result.schema).toEqual([
      { name: 'a', type: 'string', nullable: true, widenings: [] },
      {
        name: 'b',
        type: 'string',
        nullable: false,
        widenings: [{ from: 'integer', to: 'string', row: 2, value: 'x' }],
      },
    ])
  })

  it('ignores a byte order mark on the first line', async () => {
    const result = expectOk(await validate('\ufeff{"a":1}\n', 'jsonl'))
    expect(result.schema.map((c) => c.name)).toEqual(['a'])
  })
})

describe('validateAndProfile on JSON Lines, chunking', () => {
  it('gives the same result, byte for byte in JSON, however the bytes are chunked', async () => {
    const lines: string[] = []
    for (let i = 0; i < 2000; i++) {
      lines.push(
        JSON.stringify({ i, x: i * 0.25, name: `naïve ${i % 13}`, at: `2024-01-${(i % 28) + 1}` }),
      )
    }
    const jsonl = lines.join('\n')
    const results = await Promise.all(
      [1, 5, 333, 1 << 20].map(async (chunkSize) =>
        JSON.stringify(await validate(jsonl, 'jsonl', { chunkSize })),
      ),
    )
    expect(new Set(results).size).toBe(1)
    expect(JSON.parse(results[0]!)).toMatchObject({ ok: true, rowCount: 2000 })
  })
})
