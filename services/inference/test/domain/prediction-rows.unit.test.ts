import { readFileSync } from 'node:fs'
import {
  PREDICTION_LOG_SCHEMA_VERSION,
  type PredictionLogRecordV1,
  type PredictionLogRowV1,
} from '@argmax/contracts'
import { describe, expect, it } from 'vitest'
import {
  logRows,
  rowValues,
  splitRecords,
  type RecordHeader,
} from '../../src/application/log-records.ts'
import {
  PREDICTION_LOGGED,
  PREDICTIONS_LOGGED,
  predictionLogUpcast,
} from '../../src/application/prediction-log.ts'
import { predictionChunks } from '../../src/application/prediction-rows.ts'
import type { Tensor } from '../../src/model-server/tensors/tensor.ts'

/**
 * The ClickHouse text of the prediction log stays byte for byte what it was when rows carried
 * their inputs and outputs as objects that the sink parsed and serialised again. The fixture is
 * the TabSeparated text the sink of commit d24e455 (before rows carried JSON text) wrote for the
 * records below, made by that commit's own `rowValues`, `splitRecords` and `predictionChunks`.
 */
const BEFORE = readFileSync(
  new URL('fixtures/prediction-rows-d24e455.tsv', import.meta.url),
  'utf8',
)

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

/**
 * Three rows: text (quotes, what TabSeparated reserves, non-ASCII, a control character, `\N`),
 * a NaN, a tiny float, a multi-dimensional input, 64-bit integers, booleans.
 */
const INPUTS: Tensor[] = [
  {
    name: 'genre',
    datatype: 'BYTES',
    shape: [3],
    data: ['Drama', 'say "hi"\ttab\\back\nline\r', 'é 😀 \u0001 \\N'],
  },
  { name: 'budget', datatype: 'FP32', shape: [3], data: new Float32Array([1.5, Number.NaN, 1e-7]) },
  {
    name: 'pixels',
    datatype: 'FP32',
    shape: [3, 2, 2],
    data: new Float32Array([0.1, 0.2, 0.3, 0.4, -0, 1e21, Number.NaN, 3, 4, 5, 6, 7]),
  },
  {
    name: 'count',
    datatype: 'INT64',
    shape: [3, 1],
    data: new BigInt64Array([5n, 2n ** 60n, -3n]),
  },
  { name: 'flag', datatype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
]

/**
 * A classifier (label and probabilities, a NaN among them), a regression by name (a NaN, a
 * negative zero), one output of one value a row under another name, two outputs.
 */
const OUTPUTS: Tensor[][] = [
  [
    { name: 'label', datatype: 'BYTES', shape: [3], data: ['good', 'bad', 'x\ty'] },
    {
      name: 'probabilities',
      datatype: 'FP32',
      shape: [3, 2],
      data: new Float32Array([0.25, 0.75, Number.NaN, 0.5, 0.9, 0.1]),
    },
  ],
  [
    {
      name: 'predictions',
      datatype: 'FP32',
      shape: [3],
      data: new Float32Array([7.5, Number.NaN, -0]),
    },
  ],
  [
    {
      name: 'y',
      datatype: 'FP64',
      shape: [3, 1],
      data: new Float64Array([2.5, 1e-300, 123456789.125]),
    },
  ],
  [
    { name: 'a', datatype: 'INT32', shape: [3], data: new Int32Array([1, 2, 3]) },
    { name: 'b', datatype: 'FP32', shape: [3], data: new Float32Array([0.5, 0.5, 0.5]) },
  ],
]

const ids = (k: number) => [0, 1, 2].map((row) => `p${k}-${row}`)
/** What a message's data is once it went through JetStream: its JSON, parsed. */
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T
const textOf = (events: Parameters<typeof predictionChunks>[0]) =>
  Buffer.concat([...predictionChunks(events)].map((chunk) => chunk.bytes)).toString()

describe('the ClickHouse text of log rows carrying JSON text', () => {
  it('is byte for byte what the sink wrote when rows carried objects', () => {
    const events = OUTPUTS.map((outputs, k) => {
      const [record] = splitRecords(header, logRows(ids(k), INPUTS, outputs))
      return { id: `evt-${k}`, type: PREDICTION_LOGGED, data: wire(record) }
    })
    expect(textOf(events)).toBe(BEFORE)
  })

  it('is the same for messages of schemaVersion 1, still in a stream after an upgrade', () => {
    const v1Records = OUTPUTS.map((outputs, k): PredictionLogRecordV1 => ({
      ...header,
      rowOffset: 0,
      rows: ids(k).map((predictionId, row): PredictionLogRowV1 => ({
        predictionId,
        inputs: rowValues(INPUTS, row, 'json') as PredictionLogRowV1['inputs'],
        outputs: rowValues(outputs, row, 'array') as PredictionLogRowV1['outputs'],
      })),
    }))
    const recorded = (id: string, type: string, data: unknown) =>
      predictionLogUpcast({
        id,
        type,
        schemaVersion: 1,
        stream: 'INFERENCE_LOG',
        subject: 'inference.log.movies',
        occurredAt: header.time,
        actor: 'alice',
        correlationId: 'r1',
        causationId: null,
        sequence: 1,
        data: wire(data),
      })
    const single = v1Records.map((record, k) => recorded(`evt-${k}`, PREDICTION_LOGGED, record))
    expect(single.every((event) => event.schemaVersion === PREDICTION_LOG_SCHEMA_VERSION)).toBe(
      true,
    )
    expect(textOf(single)).toBe(BEFORE)
    // The same records grouped in one message: the same rows, in the same order.
    const grouped = recorded('evt-g', PREDICTIONS_LOGGED, { records: v1Records })
    expect(textOf([grouped])).toBe(BEFORE)
    // Today's messages pass through untouched.
    const today = { ...single[0]!, schemaVersion: PREDICTION_LOG_SCHEMA_VERSION }
    expect(predictionLogUpcast(today)).toBe(today)
  })

  it('carries the prediction and class beside the text, absent when there is none', () => {
    const [classified] = logRows(['p'], INPUTS, OUTPUTS[0]!)
    expect(classified).toEqual({
      predictionId: 'p',
      inputs:
        '{"genre":"Drama","budget":1.5,"pixels":"[0.10000000149011612,0.20000000298023224,0.30000001192092896,0.4000000059604645]","count":5,"flag":true}',
      outputs: '{"label":"good","probabilities":[0.25,0.75]}',
      predictedClass: 'good',
    })
    expect(logRows(['p'], INPUTS, OUTPUTS[1]!, [40])[0]).toMatchObject({ row: 40, prediction: 7.5 })
    expect(logRows(['p'], INPUTS, OUTPUTS[3]!)[0]).not.toHaveProperty('prediction')
  })
})
