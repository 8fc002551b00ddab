import { parse } from 'csv-parse/sync'
import { describe, expect, it } from 'vitest'
import { CsvSplitter } from '../../src/validation/csv/csv-splitter.ts'
import type { Delimiter } from '../../src/validation/csv/delimiter.ts'
import { detectDelimiter } from '../../src/validation/csv/delimiter.ts'
import type { ValidationIssue } from '../../src/validation/validation.types.ts'
import { seededRandom } from './validation-helpers.ts'

const ALPHABET = ['a', 'b', 'Z', '7', ' ', 'é', '日', '🙂', '"', ',', ';', '\t', '|', '\n', '\r\n']

/** A random field; fields holding specials are quoted with inner quotes doubled (RFC 4180). */
function randomField(random: () => number, delimiter: Delimiter): string {
  const length = Math.floor(random() * 6)
  let value = ''
  for (let i = 0; i < length; i++) value += ALPHABET[Math.floor(random() * ALPHABET.length)]
  const special = /["\r\n]/.test(value) || value.includes(delimiter)
  if (special || random() < 0.1) return `"${value.replace(/"/g, '""')}"`
  return value
}

function randomCsv(seed: number, delimiter: Delimiter): string {
  const random = seededRandom(seed)
  const lines: string[] = []
  const rows = 1 + Math.floor(random() * 40)
  for (let r = 0; r < rows; r++) {
    const fields = 1 + Math.floor(random() * 5)
    const line = Array.from({ length: fields }, () => randomField(random, delimiter))
    // Blank lines are skipped by both; an all-empty single field would be one too.
    if (line.join('') === '') line[0] = 'x'
    lines.push(line.join(delimiter))
  }
  const eol = random() < 0.5 ? '\n' : '\r\n'
  return lines.join(eol) + (random() < 0.5 ? eol : '')
}

function split(bytes: Buffer, delimiter: Delimiter, chunkSizes: number[]) {
  const records: { fields: string[]; row: number }[] = []
  const issues: ValidationIssue[] = []
  const splitter = new CsvSplitter(delimiter, {
    record: (fields, row) => records.push({ fields, row }),
    line: (text, start, end, row) => {
      records.push({ fields: text.slice(start, end).split(delimiter), row })
    },
    issue: (issue) => issues.push(issue),
    columnName: (i) => `c${i}`,
  })
  let pos = 0
  for (let i = 0; pos < bytes.length; i++) {
    const size = chunkSizes[i % chunkSizes.length]!
    splitter.push(bytes.subarray(pos, pos + size))
    pos += size
  }
  splitter.end()
  return { records, issues }
}

describe('CsvSplitter', () => {
  it('cuts exactly the records csv-parse reads, for 300 random files and chunkings', () => {
    const delimiters: Delimiter[] = [',', ';', '\t', '|']
    for (let seed = 1; seed <= 300; seed++) {
      const delimiter = delimiters[seed % delimiters.length]!
      const csv = randomCsv(seed, delimiter)
      const bytes = Buffer.from(csv, 'utf8')
      const expected = parse(bytes, {
        delimiter,
        relax_column_count: true,
        skip_empty_lines: true,
        record_delimiter: ['\r\n', '\n'],
      }) as string[][]
      const random = seededRandom(seed * 7919)
      const chunkSizes = Array.from({ length: 5 }, () => 1 + Math.floor(random() * 50))
      const { records, issues } = split(bytes, delimiter, chunkSizes)
      expect(issues, `seed ${seed}`).toEqual([])
      expect(
        records.map((r) => r.fields),
        `seed ${seed}`,
      ).toEqual(expected)
    }
  })

  it('numbers each record by the line it starts on', () => {
    const csv = 'h1,h2\n"a\nb",1\n\nc,2\r\n"d""\n\ne",3\nf,4'
    const { records } = split(Buffer.from(csv), ',', [3])
    expect(records.map((r) => [r.row, r.fields])).toEqual([
      [1, ['h1', 'h2']],
      [2, ['a\nb', '1']],
      [5, ['c', '2']],
      [6, ['d"\n\ne', '3']],
      [9, ['f', '4']],
    ])
  })

  it('stops at the first broken quoting and names its line and column', () => {
    const { records, issues } = split(Buffer.from('a,b\n1,2\n3,"x"y\n4,5\n'), ',', [64])
    expect(records).toHaveLength(2)
    expect(issues).toEqual([
      {
        code: 'invalid_quoting',
        row: 3,
        column: 'c1',
        message:
          'broken quoting in the record starting on line 3 (at line 3): a closing quote is followed by something other than a delimiter or a line end',
      },
    ])
  })
})

it('keeps the records of a quoted run before a broken one and names the broken line', () => {
  const lines = ['"a","b"']
  for (let i = 2; i <= 60; i++) lines.push(i === 50 ? `"${i}","x"y` : `"${i}","v ${i}"`)
  const { records, issues } = split(Buffer.from(lines.join('\r\n')), ',', [1000])
  expect(records).toHaveLength(49)
  expect(records.at(-1)).toEqual({ fields: ['49', 'v 49'], row: 49 })
  expect(issues).toEqual([
    expect.objectContaining({ code: 'invalid_quoting', row: 50, column: 'c1' }),
  ])
})

it('gives the same records from one long-lived csv-parse stream across many quoted runs', () => {
  const lines = ['h,i']
  for (let i = 0; i < 5000; i++) {
    lines.push(i % 3 === 0 ? `plain ${i},${i}` : `"q ""${i}""",${i}`)
  }
  const bytes = Buffer.from(lines.join('\n'))
  const { records, issues } = split(bytes, ',', [4096, 77])
  expect(issues).toEqual([])
  expect(records.map((r) => r.fields)).toEqual(
    parse(bytes, { relax_column_count: true, skip_empty_lines: true }) as string[][],
  )
  expect(records.map((r) => r.row)).toEqual(lines.map((_, i) => i + 1))
})

describe('detectDelimiter', () => {
  it.each([
    ['a,b,c', ','],
    ['a;b;c', ';'],
    ['a\tb\tc', '\t'],
    ['a|b|c', '|'],
    ['"x;y;z",b,c', ','],
    ['only', ','],
    ['a;b,c', ','],
  ])('reads %j as %j', (line, expected) => {
    expect(detectDelimiter(Buffer.from(line))).toBe(expected)
  })
})
