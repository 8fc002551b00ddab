import { predictionLogRow, type PredictionLogRecord } from '@argmax/contracts'
import { describe, expect, it } from 'vitest'
import {
  rowValues,
  splitRecords,
  MAX_RECORD_ROWS_BYTES,
  type RecordHeader,
} from '../../src/application/log-records.ts'
import { PREDICTION_COLUMNS, predictionChunks } from '../../src/application/prediction-rows.ts'
import { PREDICTION_LOGGED, PREDICTIONS_LOGGED } from '../../src/application/prediction-log.ts'
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
    const rows = Array.from({ length: 3_000 }, (_, i) =>
      predictionLogRow(`p${i}`, { text: 'x'.repeat(1_000) }, { predictions: i }),
    )
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
      // JSON escapes each control character as \u0001, six bytes for one character, and the
      // row's JSON text once more in the message (\\u0001): seven.
      predictionLogRow('p0', { text: '\u0001'.repeat(120_000) }, { y: 1 }),
      predictionLogRow('p1', { text: 'é' }, { y: [0.5, 0.5] }),
    ]
    const records = splitRecords(header, rows, 7)
    expect(records).toEqual([{ ...header, rowOffset: 7, rows }])
    expect(Buffer.byteLength(JSON.stringify(records[0]))).toBeLessThan(
      MAX_RECORD_ROWS_BYTES + 4_096,
    )
  })

  it('logs a row too large for a message without its inputs, and an error as one record without rows', () => {
    const [record] = splitRecords(header, [
      predictionLogRow('p', { blob: 'y'.repeat(2_000_000) }, { predictions: 1 }),
    ])
    expect(record!.rows[0]).toEqual({
      predictionId: 'p',
      inputs: '{"_omitted":"row too large to log"}',
      outputs: '{"predictions":1}',
      prediction: 1,
    })
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

describe('ClickHouse rows of log records', () => {
  /** TabSeparated text read back as ClickHouse reads it: `\N` is NULL, escapes undone. */
  const parse = (text: string) =>
    text
      .split('\n')
      .slice(0, -1)
      .map((line) => {
        const fields = line
          .split('\t')
          .map((field) =>
            field === '\\N'
              ? null
              : field.replace(/\\([\\tnr])/g, (_, c: string) =>
                  c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : '\\',
                ),
          )
        expect(fields).toHaveLength(PREDICTION_COLUMNS.length)
        return Object.fromEntries(PREDICTION_COLUMNS.map((column, i) => [column, fields[i]]))
      })
  const textOf = (events: Parameters<typeof predictionChunks>[0]) =>
    Buffer.concat([...predictionChunks(events)].map((chunk) => chunk.bytes)).toString()
  const logged = (id: string, data: PredictionLogRecord) => ({
    id,
    type: PREDICTION_LOGGED,
    data,
  })

  it('are one per prediction id, the same each time (a redelivery inserts identical rows)', () => {
    const record: PredictionLogRecord = {
      ...header,
      batchId: 'b1',
      rowOffset: 10,
      rows: [
        predictionLogRow('p1', { genre: 'Drama' }, { predictions: 7.5 }),
        predictionLogRow('p2', { genre: null }, { label: 'good', probabilities: [0.2, 0.8] }),
        predictionLogRow('p3', {}, { y: [2.5] }, 40),
      ],
    }
    const events = [logged('evt-1', record)]
    expect([...predictionChunks(events)]).toEqual([...predictionChunks(events)])
    expect([...predictionChunks(events)].map((chunk) => chunk.rows)).toEqual([3])
    const rows = parse(textOf(events))
    expect(rows[0]).toEqual({
      prediction_id: 'p1',
      row_index: '10',
      inputs: '{"genre":"Drama"}',
      outputs: '{"predictions":7.5}',
      prediction: '7.5',
      predicted_class: null,
      request_id: 'r1',
      time: '2026-12-01 10:11:12',
      time_ms: '345',
      date: '2026-12-01',
      model: 'movies',
      version: '3',
      variant: 'canary',
      release_sequence: '42',
      caller: 'alice',
      protocol: 'grpc',
      status: 'success',
      error: '',
      latency_ms: '1.25',
      batch_id: 'b1',
    })
    expect(rows[1]).toMatchObject({ prediction: null, predicted_class: 'good', row_index: '11' })
    expect(rows[2]).toMatchObject({ prediction: '2.5', row_index: '40' })
  })

  it('key a failed request by its message id, or by message id and index in a group', () => {
    const failed = { ...header, status: 'error' as const, error: 'e', rowOffset: 2, rows: [] }
    const ok: PredictionLogRecord = {
      ...header,
      releaseSequence: null,
      rows: [predictionLogRow('p1', { x: 1 }, { a: 1, b: 2 })],
    }
    const rows = parse(
      textOf([
        logged('evt-2', failed),
        { id: 'evt-3', type: PREDICTIONS_LOGGED, data: { records: [ok, failed] } },
        { id: 'evt-4', type: 'SomethingElse', data: {} },
      ]),
    )
    expect(rows.map((row) => row['prediction_id'])).toEqual(['error:evt-2', 'p1', 'error:evt-3/1'])
    expect(rows[0]).toMatchObject({
      status: 'error',
      error: 'e',
      inputs: '{}',
      outputs: '{}',
      prediction: null,
      predicted_class: null,
      row_index: '2',
    })
    expect(rows[1]).toMatchObject({ release_sequence: null, prediction: null })
  })

  it('escape what TabSeparated reserves in every text field, so each row stays one line', () => {
    const awkward = 'tab\there\nnew line\rreturn \\ backslash \\N'
    const record: PredictionLogRecord = {
      ...header,
      requestId: awkward,
      // The text `\N` is not NULL.
      caller: '\\N',
      error: awkward,
      batchId: awkward,
      rows: [predictionLogRow(awkward, { [awkward]: awkward }, { label: awkward })],
    }
    const text = textOf([logged('evt-5', record)])
    expect(text.split('\n')).toHaveLength(2)
    const [row] = parse(text)
    for (const column of ['prediction_id', 'request_id', 'error', 'batch_id']) {
      expect(row![column]).toBe(awkward)
    }
    expect(row!['caller']).toBe('\\N')
    expect(row!['predicted_class']).toBe(awkward)
    expect(JSON.parse(row!['inputs']!)).toEqual({ [awkward]: awkward })
  })

  it('refuse a record whose numbers ClickHouse could not store, rather than write a bad line', () => {
    const bad = { ...header, latencyMs: Number.NaN, rows: [] }
    expect(() => textOf([logged('evt-6', bad)])).toThrow(RangeError)
  })

  it('go in chunks of whole records of at most about chunkRows lines', () => {
    const records = Array.from({ length: 5 }, (_, i) => ({
      ...header,
      rows: [0, 1].map((j) => predictionLogRow(`p${i}-${j}`, {}, {})),
    }))
    const chunks = [
      ...predictionChunks(
        records.map((record, i) => logged(`evt-${i}`, record)),
        4,
      ),
    ]
    expect(chunks.map((chunk) => chunk.rows)).toEqual([4, 4, 2])
    expect(chunks.map((chunk) => parse(chunk.bytes.toString()).length)).toEqual([4, 4, 2])
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

  it("take KServe v1's positional rows in the signature's input order, next to records", () => {
    const inputs = instancesToInputs(MIXED_SIGNATURE, [['Drama', 12], [null, null], { budget: 3 }])
    expect(inputs[0]!.values('BYTES', 3)).toEqual(['Drama', '', ''])
    expect(Array.from(inputs[1]!.values('FP32', 3) as Float32Array)).toEqual([12, Number.NaN, 3])
    expect(() =>
      instancesToInputs(MIXED_SIGNATURE, [['Drama'], ['Drama', 1, 2], 7 as never]),
    ).toThrow(
      'invalid instances: instances/0: has 1 value; this model takes 2, in this order: genre, budget; ' +
        'instances/1: has 3 values; this model takes 2, in this order: genre, budget; ' +
        'instances/2: must be an object of input name → value, or a list of values in input order',
    )
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
