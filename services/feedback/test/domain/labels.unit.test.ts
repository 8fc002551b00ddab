import { describe, expect, it } from 'vitest'
import {
  chunkLabels,
  labelRecordBytes,
  MAX_RECORD_BYTES,
  type LabelRecord,
} from '../../src/domain/labels.ts'

const record = (i: number, overrides: Partial<LabelRecord> = {}): LabelRecord => ({
  labelId: `0190a1b2-c3d4-8e5f-a6b7-${String(i).padStart(12, '0')}`,
  predictionId: `p1_AAABk3xYz0Qn5Wc2AAAAAWluZ2VzdA.${i}sig-_`,
  model: 'ingest',
  version: 1 + (i % 3),
  predictionTime: '2026-12-01T22:00:00.123Z',
  value: 3 + (i % 50) / 10,
  revision: 1_764_626_400_123_000 + (i % 1000),
  ...overrides,
})

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value))

describe('labelRecordBytes', () => {
  it("equals the UTF-8 size of the record's JSON, whatever its strings and numbers hold", () => {
    const odd = [
      'quote " and backslash \\',
      'tab\tnewline\ncontrol\u0001del\u007f',
      'ünïcødé ✓ 😀',
      'lone \ud800 surrogate',
      '',
    ]
    const records = [
      record(0),
      record(1, { value: -0 }),
      record(2, { value: 1e21 }),
      record(3, { value: 1e-7 }),
      record(4, { value: -123456.789, version: 4_294_967_295 }),
      ...odd.map((text, i) => record(10 + i, { value: text })),
      ...odd.map((text, i) => record(20 + i, { model: text, predictionId: text })),
    ]
    for (const r of records) expect(labelRecordBytes(r), JSON.stringify(r)).toBe(jsonBytes(r))
  })
})

describe('chunkLabels', () => {
  it('keeps every record, in order, in chunks whose JSON array stays under the limit', () => {
    const records = Array.from({ length: 10_000 }, (_, i) =>
      record(i, i % 97 === 0 ? { value: `class ✓ ${'x'.repeat(i % 500)}` } : {}),
    )
    const chunks = chunkLabels(records)
    expect(chunks.flat()).toEqual(records)
    for (const chunk of chunks) expect(jsonBytes(chunk)).toBeLessThanOrEqual(MAX_RECORD_BYTES)
    // Full chunks, not one record each: all but the last filled to within one record.
    for (const chunk of chunks.slice(0, -1)) {
      expect(jsonBytes(chunk)).toBeGreaterThan(MAX_RECORD_BYTES - 1_000)
    }
  })
})
