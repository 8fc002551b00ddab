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
      rowCount: null,
      schema: null,
      profile: null,
      errors: [{ row: 3, column: 'b', code: 'ragged_row', message: 'expected 2 fields' }],
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
      rowCount: 2,
      schema: [{ name: 'price', type: 'float', nullable: true }],
      profile: { columns: [{ name: 'price', nulls: 1, min: 1.5, max: 2, mean: 1.75 }] },
      errors: [],
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
