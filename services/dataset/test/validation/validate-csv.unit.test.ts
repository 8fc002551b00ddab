import { describe, expect, it } from 'vitest'
import { expectOk, validate } from './validation-helpers.ts'

// Every number below is worked out by hand from these five lines.
const PEOPLE_CSV = [
  'id,price,name,active,joined,score,code',
  '1,2.5,alice,true,2024-01-01,10,7',
  '2,3.5,bob,false,2024-01-02T10:00:00Z,,8',
  '3,,alice,TRUE,2024-01-03,20,n/a',
  '4,4.5,carol,false,,30.0,9',
  '',
].join('\n')

describe('validateAndProfile on a CSV file', () => {
  it('infers the schema, with nullability and the reason each column widened', async () => {
    const result = expectOk(await validate(PEOPLE_CSV, 'csv'))
    expect(result.rowCount).toBe(4)
    expect(result.size).toBe(Buffer.byteLength(PEOPLE_CSV))
    expect(result.schema).toEqual([
      { name: 'id', type: 'integer', nullable: false, widenings: [] },
      { name: 'price', type: 'float', nullable: true, widenings: [] },
      { name: 'name', type: 'string', nullable: false, widenings: [] },
      { name: 'active', type: 'boolean', nullable: false, widenings: [] },
      { name: 'joined', type: 'timestamp', nullable: true, widenings: [] },
      {
        name: 'score',
        type: 'float',
        nullable: true,
        widenings: [{ from: 'integer', to: 'float', row: 5, value: '30.0' }],
      },
      {
        name: 'code',
        type: 'string',
        nullable: false,
        widenings: [{ from: 'integer', to: 'string', row: 4, value: 'n/a' }],
      },
    ])
  })

  it('computes counts, moments, histograms, top values and distinct counts exactly', async () => {
    const { profile } = expectOk(await validate(PEOPLE_CSV, 'csv'))
    expect(profile.rowCount).toBe(4)
    const [id, price, name, active, joined, score, code] = profile.columns

    // id: 1..4 → mean 2.5, sample variance (2.25+0.25+0.25+2.25)/3 = 5/3.
    expect(id).toMatchObject({ type: 'integer', count: 4, nulls: 0, distinct: 4, topValues: [] })
    expect(id!.numeric).toMatchObject({ min: 1, max: 4, mean: 2.5, std: Math.sqrt(5 / 3) })
    const idBins = id!.numeric!.histogram
    expect(idBins).toHaveLength(20)
    expect(idBins[0]!.lower).toBe(1)
    expect(idBins[19]!.upper).toBe(4)
    // Bin width (4-1)/20 = 0.15: 1 → bin 0, 2 → 6.67 → 6, 3 → 13.3 → 13, 4 → the last bin.
    expect(idBins.flatMap((b, i) => (b.count > 0 ? [[i, b.count]] : []))).toEqual([
      [0, 1],
      [6, 1],
      [13, 1],
      [19, 1],
    ])

    // price: 2.5, 3.5, 4.5 (one null) → mean 3.5, sample std √((1+0+1)/2) = 1.
    expect(price).toMatchObject({ type: 'float', count: 3, nulls: 1, distinct: 3 })
    expect(price!.numeric).toMatchObject({ min: 2.5, max: 4.5, mean: 3.5, std: 1 })

    expect(name).toMatchObject({
      type: 'string',
      count: 4,
      nulls: 0,
      distinct: 3,
      topValues: [
        { value: 'alice', count: 2 },
        { value: 'bob', count: 1 },
        { value: 'carol', count: 1 },
      ],
    })
    expect(name!.numeric).toBeUndefined()

    // TRUE and true are the same boolean; ties are ordered by value.
    expect(active).toMatchObject({
      type: 'boolean',
      count: 4,
      distinct: 2,
      topValues: [
        { value: 'false', count: 2 },
        { value: 'true', count: 2 },
      ],
    })

    expect(joined).toMatchObject({ type: 'timestamp', count: 3, nulls: 1, distinct: 3 })
    expect(joined!.timestamp).toEqual({
      min: '2024-01-01T00:00:00.000Z',
      max: '2024-01-03T00:00:00.000Z',
    })

    // score: 10, 20, 30 → mean 20, sample std √((100+0+100)/2) = 10.
    expect(score).toMatchObject({ type: 'float', count: 3, nulls: 1 })
    expect(score!.numeric).toMatchObject({ min: 10, max: 30, mean: 20, std: 10 })

    // Frequent values are only tracked for text, so a column that turned to text at line 4
    // counts them from there on (documented in column-profiler.ts).
    expect(code).toMatchObject({ type: 'string', count: 4, nulls: 0 })
    expect(code!.topValues).toEqual([
      { value: '9', count: 1 },
      { value: 'n/a', count: 1 },
    ])
    expect(code!.numeric).toBeUndefined()
  })

  it.each([
    ['semicolon', ';'],
    ['tab', '\t'],
    ['pipe', '|'],
  ])('detects a %s delimiter from the header line', async (_name, d) => {
    const csv = `a${d}b${d}c\n1${d}x,y${d}2024-05-06\n2${d}z${d}\n`
    const result = expectOk(await validate(csv, 'csv'))
    expect(result.schema.map((c) => [c.name, c.type])).toEqual([
      ['a', 'integer'],
      ['b', 'string'],
      ['c', 'timestamp'],
    ])
    expect(result.profile.columns[1]!.topValues).toEqual([
      { value: 'x,y', count: 1 },
      { value: 'z', count: 1 },
    ])
  })

  it('reads RFC 4180 quoting: delimiters, doubled quotes and line breaks inside fields', async () => {
    const csv =
      '\ufeff"name","note",n\r\n' +
      '"Smith, J","said ""hi""",1\r\n' +
      '"multi\r\nline",plain,2\r\n' +
      '\r\n' +
      'last,"",3'
    const result = expectOk(await validate(csv, 'csv', { chunkSize: 3 }))
    expect(result.rowCount).toBe(3)
    expect(result.schema.map((c) => c.name)).toEqual(['name', 'note', 'n'])
    const [name, note, n] = result.profile.columns
    expect(name!.topValues.map((t) => t.value)).toEqual(['Smith, J', 'last', 'multi\r\nline'])
    expect(note).toMatchObject({ count: 2, nulls: 1 })
    expect(note!.topValues.map((t) => t.value)).toEqual(['plain', 'said "hi"'])
    expect(n!.numeric).toMatchObject({ min: 1, max: 3, mean: 2 })
  })

  it('gives the same result, byte for byte in JSON, however the bytes are chunked', async () => {
    const rows = ['k,v,t,s']
    for (let i = 0; i < 3000; i++) {
      rows.push(
        `${i},${(i * 0.37).toFixed(3)},2024-02-${String((i % 28) + 1).padStart(2, '0')},"é ${i % 17}"`,
      )
    }
    const csv = rows.join('\n')
    const results = await Promise.all(
      [1, 7, 4096, 1 << 20].map(async (chunkSize) =>
        JSON.stringify(await validate(csv, 'csv', { chunkSize })),
      ),
    )
    expect(new Set(results).size).toBe(1)
    expect(JSON.parse(results[0]!)).toMatchObject({ ok: true, rowCount: 3000 })
  })
})
