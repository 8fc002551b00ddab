import type { PredictionLogRecord } from '@argmax/contracts'
import { describe, expect, it } from 'vitest'
import {
  rowValues,
  splitRecords,
  MAX_RECORD_ROWS_BYTES,
  type RecordHeader,
} from '../../src/application/log-records.ts'
import { predictionRows } from '../../src/application/prediction-rows.ts'
import { instancesToInputs, outputRows } from '../../src/api/instances.ts'
import { MIXED_SIGNATURE } from '@argmax/testkit/onnx-models'

const header: RecordHeader = {
  requestId: 'r1',
  time: '2026-12-01T10:11:12.345Z',
  model: 'movies',
  version: 3,
  variant: 'canary',
  releaseSequence: 42,
  caller: 'alice',
  protocol: 'grpc',
  status: 'success',
  latencyMs: 1.25,
}

describe('prediction log records', () => {
  it('splits rows so that every message stays under the NATS payload limit, keeping row offsets', () => {
    const rows = Array.from({ length: 3_000 }, (_, i) => ({
      predictionId: `p${i}`,
      inputs: { text: 'x'.repeat(1_000) },
      outputs: { predictions: i },
    }))
    const records = splitRecords(header, rows)
    expect(records.length).toBeGreaterThan(3)
    let offset = 0
    for (const record of records) {
      expect(record.rowOffset).toBe(offset)
      expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThan(MAX_RECORD_ROWS_BYTES + 4_096)
      offset += record.rows.length
    }
    expect(offset).toBe(3_000)
  })

  it('keeps a request whose rows surely fit one message in one record, escapes counted', () => {
    const rows = [
      // JSON escapes each control character as \u0001: six bytes for one character.
      { predictionId: 'p0', inputs: { text: '\u0001'.repeat(150_000) }, outputs: { y: 1 } },
      { predictionId: 'p1', inputs: { text: 'é' }, outputs: { y: [0.5, 0.5] } },
    ]
    const records = splitRecords(header, rows, 7)
    expect(records).toEqual([{ ...header, rowOffset: 7, rows }])
    expect(Buffer.byteLength(JSON.stringify(records[0]))).toBeLessThan(
      MAX_RECORD_ROWS_BYTES + 4_096,
    )
  })

  it('logs a row too large for a message without its inputs, and an error as one record without rows', () => {
    const [record] = splitRecords(header, [
      { predictionId: 'p', inputs: { blob: 'y'.repeat(2_000_000) }, outputs: { predictions: 1 } },
    ])
    expect(record!.rows[0]!.inputs).toEqual({ _omitted: 'row too large to log' })
    expect(splitRecords({ ...header, status: 'error', error: 'unavailable: x' }, [])).toEqual([
      { ...header, status: 'error', error: 'unavailable: x', rowOffset: 0, rows: [] },
    ])
  })

  it('reads row values as scalars, NaN as null, multi-valued rows as arrays or JSON', () => {
    const tensors = [
      {
        name: 'a',
        datatype: 'FP32' as const,
        shape: [2],
        data: new Float32Array([1.5, Number.NaN]),
      },
      { name: 'b', datatype: 'FP32' as const, shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      { name: 'c', datatype: 'BYTES' as const, shape: [2], data: ['x', 'y'] },
      {
        name: 'd',
        datatype: 'INT64' as const,
        shape: [2, 1],
        data: new BigInt64Array([5n, 2n ** 60n]),
      },
    ]
    expect(rowValues(tensors, 1, 'array')).toEqual({
      a: null,
      b: [3, 4],
      c: 'y',
      d: '1152921504606846976',
    })
    expect(rowValues(tensors, 0, 'json')).toEqual({ a: 1.5, b: '[1,2]', c: 'x', d: 5 })
  })
})

describe('ClickHouse rows of a record', () => {
  it('are one per prediction id, the same each time (a redelivery inserts identical rows)', () => {
    const record: PredictionLogRecord = {
      ...header,
      batchId: 'b1',
      rowOffset: 10,
      rows: [
        { predictionId: 'p1', inputs: { genre: 'Drama' }, outputs: { predictions: 7.5 } },
        {
          predictionId: 'p2',
          inputs: { genre: null },
          outputs: { label: 'good', probabilities: [0.2, 0.8] },
        },
        { predictionId: 'p3', inputs: {}, outputs: { y: [2.5] } },
      ],
    }
    const rows = predictionRows('evt-1', record)
    expect(rows).toEqual(predictionRows('evt-1', record))
    expect(rows[0]).toMatchObject({
      prediction_id: 'p1',
      time: '2026-12-01 10:11:12',
      time_ms: 345,
      date: '2026-12-01',
      release_sequence: 42,
      prediction: 7.5,
      predicted_class: null,
      batch_id: 'b1',
      row_index: 10,
      inputs: '{"genre":"Drama"}',
    })
    expect(rows[1]).toMatchObject({ prediction: null, predicted_class: 'good', row_index: 11 })
    expect(rows[2]).toMatchObject({ prediction: 2.5 })
    expect(predictionRows('evt-2', { ...header, status: 'error', error: 'e', rows: [] })).toEqual([
      expect.objectContaining({
        prediction_id: 'error:evt-2',
        status: 'error',
        error: 'e',
        inputs: '{}',
      }),
    ])
  })
})

describe('record-shaped requests', () => {
  it('become one tensor per input: absent or null is missing (NaN, "" for BYTES)', () => {
    const inputs = instancesToInputs(MIXED_SIGNATURE, [
      { genre: 'Drama', budget: 12 },
      { genre: null },
      { budget: true },
    ])
    expect(inputs.map((i) => [i.name, i.datatype, i.shape])).toEqual([
      ['genre', 'BYTES', [3]],
      ['budget', 'FP32', [3]],
    ])
    expect(inputs[0]!.values('BYTES', 3)).toEqual(['Drama', '', ''])
    expect(Array.from(inputs[1]!.values('FP32', 3) as Float32Array)).toEqual([12, Number.NaN, 1])
  })

  it('name every bad record and key at once', () => {
    expect(() => instancesToInputs(MIXED_SIGNATURE, [{ genre: 5, budget: 'x', other: 1 }])).toThrow(
      /instances\/0\/other: is not an input of this model.*instances\/0\/genre: is 5; the input takes text.*instances\/0\/budget: is "x"; the input takes a number/,
    )
  })

  it('answer per row, NaN as null', () => {
    expect(
      outputRows({
        name: 'y',
        datatype: 'FP32',
        shape: [2, 1],
        data: new Float32Array([1, Number.NaN]),
      }),
    ).toEqual([1, null])
    expect(
      outputRows({
        name: 'p',
        datatype: 'FP32',
        shape: [1, 2],
        data: new Float32Array([0.25, 0.75]),
      }),
    ).toEqual([[0.25, 0.75]])
  })
})
