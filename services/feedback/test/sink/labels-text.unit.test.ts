import type { RecordedEvent } from '@argmax/events'
import { describe, expect, it } from 'vitest'
import type { LabelRecord } from '../../src/domain/labels.ts'
import { labelsText } from '../../src/workers/labels-text.ts'

const record = (requestId: string, labels: LabelRecord[], actor = 'alice'): RecordedEvent => ({
  id: `e-${requestId}`,
  type: 'LabelsReceived',
  schemaVersion: 1,
  stream: 'FEEDBACK_LOG',
  subject: 'feedbacklog.m',
  occurredAt: '2026-12-01T12:00:00.000Z',
  actor,
  correlationId: requestId,
  causationId: null,
  sequence: 1,
  data: { requestId, source: 'api', receivedAt: '2026-12-01T12:00:00.250Z', labels },
})

const label = (i: number, value: number | string, predictionId = `p${i}`): LabelRecord => ({
  labelId: `l${i}`,
  predictionId,
  model: 'm',
  version: 2,
  predictionTime: '2026-11-30T23:59:59.007Z',
  value,
  revision: 1_764_590_400_250_000 + i,
})

const text = (chunks: Buffer[]) => chunks.map((chunk) => chunk.toString('utf8')).join('')

describe('labelsText', () => {
  it('writes one TabSeparated line per receipt, fields escaped, numbers and classes in their columns', () => {
    const { rows, chunks } = labelsText([
      record('r1', [label(0, 4.5), label(1, 'a\tb\\c\nd')], 'bob\tby'),
      { ...record('x', []), type: 'SomethingElse' },
      record('r2', [label(2, 'ünï ✓ 😀', 'p\r2')]),
    ])
    expect(rows).toBe(3)
    expect(chunks).toHaveLength(1)
    const shared = '2026-11-30 23:59:59\t2026-11-30\t2026-12-01 12:00:00\t250'
    expect(text(chunks)).toBe(
      `l0\tp0\tm\t2\t${shared}\t1764590400250000\t4.5\t\\N\tapi\tbob\\tby\tr1\n` +
        `l1\tp1\tm\t2\t${shared}\t1764590400250001\t\\N\ta\\tb\\\\c\\nd\tapi\tbob\\tby\tr1\n` +
        `l2\tp\\r2\tm\t2\t${shared}\t1764590400250002\t\\N\tünï ✓ 😀\tapi\talice\tr2\n`,
    )
  })

  it('cuts chunks of chunkRows lines and grows its buffer for long lines, losing no byte', () => {
    const long = '✓😀é'.repeat(40_000)
    const labels = Array.from({ length: 7 }, (_, i) => label(i, i === 4 ? long : i))
    const whole = labelsText([record('r', labels)])
    const cut = labelsText([record('r', labels)], 3)
    expect(cut.rows).toBe(7)
    expect(cut.chunks.map((chunk) => chunk.toString('utf8').split('\n').length - 1)).toEqual([
      3, 3, 1,
    ])
    expect(text(cut.chunks)).toBe(text(whole.chunks))
    expect(text(whole.chunks)).toContain(`\t${long}\t`)
  })

  it('writes nothing for a batch without receipts', () => {
    expect(labelsText([record('r', [])])).toEqual({ rows: 0, chunks: [] })
  })
})
