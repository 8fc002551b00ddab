import { describe, expect, it } from 'vitest'
import { formatBytes, renderVersion, table } from '../../src/datasets/render.ts'
import { formatOfFile } from '../../src/datasets/upload.ts'

describe('render', () => {
  it('aligns a table and marks missing values', () => {
    expect(
      table(
        [
          { a: 1, b: null },
          { a: 22.5, b: ['x', 'y'] },
        ],
        ['a', 'b'],
      ),
    ).toBe('A        B\n1        -\n22.5000  x,y')
  })

  it('formats sizes', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MiB')
  })

  it('shows a rejected version with where each error is', () => {
    const text = renderVersion({
      id: 'v1',
      datasetId: 'd1',
      number: 1,
      status: 'REJECTED',
      fileName: 'x.csv',
      format: 'csv',
      size: 10,
      sha256: 'ab',
      partSize: 10,
      partCount: 1,
      rowCount: null,
      schema: null,
      profile: null,
      errors: [{ row: 3, column: 'b', code: 'ragged_row', message: 'expected 2 fields' }],
      checksumMismatch: false,
      createdAt: '',
      completedAt: null,
      finishedAt: null,
    })
    expect(text).toContain('ragged_row (row 3, column b): expected 2 fields')
  })

  it('shows schema columns with their statistics', () => {
    const text = renderVersion({
      id: 'v1',
      datasetId: 'd1',
      number: 1,
      status: 'VALIDATED',
      fileName: 'x.csv',
      format: 'csv',
      size: 10,
      sha256: 'ab',
      partSize: 10,
      partCount: 1,
      rowCount: 3,
      schema: [{ name: 'price', type: 'float', nullable: true, widenings: [] }],
      profile: {
        rowCount: 3,
        columns: [
          {
            name: 'price',
            type: 'float',
            count: 2,
            nulls: 1,
            distinct: 2,
            topValues: [],
            numeric: { min: 1.5, max: 2, mean: 1.75, std: 0.353553, histogram: [] },
          },
        ],
      },
      errors: [],
      checksumMismatch: false,
      createdAt: '',
      completedAt: null,
      finishedAt: null,
    })
    expect(text).toMatch(/price\s+float\s+true\s+1\s+1.50000\s+2\s+1.75000/)
  })
})

describe('formatOfFile', () => {
  it('knows CSV and JSON Lines by extension', () => {
    expect(formatOfFile('a/b.CSV')).toBe('csv')
    expect(formatOfFile('b.ndjson')).toBe('jsonl')
    expect(formatOfFile('b.parquet')).toBeUndefined()
  })
})
