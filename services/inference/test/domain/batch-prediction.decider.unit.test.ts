import { IdempotencyKeyReusedError, NotFoundError } from '@argmax/errors'
import { deciderSpec } from '@argmax/events'
import { describe, it } from 'vitest'
import { batchPredictionDecider } from '../../src/domain/batch-prediction.decider.ts'
import type { BatchPredictionEvent } from '../../src/domain/batch-prediction.events.ts'

const now = new Date('2026-12-01T10:00:00Z')
const input = {
  datasetId: 'd',
  versionId: 'v',
  bucket: 'b',
  objectKey: 'k',
  format: 'jsonl' as const,
  sha256: 'a'.repeat(64),
  size: 10,
}
const requested: BatchPredictionEvent = {
  type: 'BatchPredictionRequested',
  data: {
    batchId: 'x',
    ownerId: 'alice',
    model: 'movies',
    version: 2,
    input,
    output: { bucket: 'o', key: 'p' },
    requestHash: 'h',
    requestedAt: now.toISOString(),
  },
}
const spec = deciderSpec(batchPredictionDecider)
const output = { uri: 's3://o/p', sha256: 'b'.repeat(64), size: 5 }

describe('batch prediction decider', () => {
  it('requests once; the same request under its key again records nothing; another is refused', () => {
    const command = {
      type: 'RequestBatchPrediction' as const,
      data: {
        batchId: 'x',
        ownerId: 'alice',
        model: 'movies',
        version: 2,
        input,
        output: { bucket: 'o', key: 'p' },
        requestHash: 'h',
        now,
      },
    }
    spec.given([]).when(command).then([requested])
    spec.given([requested]).when(command).then([])
    spec
      .given([requested])
      .when({ ...command, data: { ...command.data, requestHash: 'other' } })
      .thenThrows(IdempotencyKeyReusedError, /was already used/)
  })

  it('records progress forward only, and one outcome', () => {
    spec
      .given([requested])
      .when({
        type: 'RecordBatchProgress',
        data: { batchId: 'x', rowsDone: 10, rowsFailed: 1, now },
      })
      .then([
        {
          type: 'BatchPredictionProgressed',
          data: { batchId: 'x', rowsDone: 10, rowsFailed: 1, at: now.toISOString() },
        },
      ])
    const progressed: BatchPredictionEvent = {
      type: 'BatchPredictionProgressed',
      data: { batchId: 'x', rowsDone: 10, rowsFailed: 1, at: now.toISOString() },
    }
    spec
      .given([requested, progressed])
      .when({
        type: 'RecordBatchProgress',
        data: { batchId: 'x', rowsDone: 5, rowsFailed: 0, now },
      })
      .then([])
    const succeeded: BatchPredictionEvent = {
      type: 'BatchPredictionSucceeded',
      data: { batchId: 'x', rowsDone: 20, rowsFailed: 1, output, finishedAt: now.toISOString() },
    }
    spec
      .given([requested, progressed])
      .when({
        type: 'CompleteBatchPrediction',
        data: { batchId: 'x', rowsDone: 20, rowsFailed: 1, output, now },
      })
      .then([succeeded])
    spec
      .given([requested, succeeded])
      .when({ type: 'FailBatchPrediction', data: { batchId: 'x', reason: 'late', now } })
      .then([])
    spec
      .given([requested, succeeded])
      .when({
        type: 'RecordBatchProgress',
        data: { batchId: 'x', rowsDone: 30, rowsFailed: 1, now },
      })
      .then([])
    spec
      .given([])
      .when({ type: 'FailBatchPrediction', data: { batchId: 'x', reason: 'r', now } })
      .thenThrows(NotFoundError, /not found/)
  })
})
