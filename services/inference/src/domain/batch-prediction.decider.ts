import { IllegalStateError, NotFoundError } from '@argmax/errors'
import { isRepeatedCreate, type AggregateDecider } from '@argmax/events'
import {
  BATCH_PREDICTION_EVENT_TYPES,
  type BatchPredictionEvent,
  type BatchPredictionRequested,
  type BatchPredictionSucceeded,
} from './batch-prediction.events.ts'

export type BatchStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED'

export type BatchPredictionState =
  | { status: 'absent' }
  | (BatchPredictionRequested['data'] & {
      status: BatchStatus
      rowsDone: number
      rowsFailed: number
      result?: BatchPredictionSucceeded['data']['output']
      error?: string
      finishedAt?: string
    })

export const initialBatchState: BatchPredictionState = { status: 'absent' }

export type BatchPredictionCommand =
  | {
      type: 'RequestBatchPrediction'
      data: Omit<BatchPredictionRequested['data'], 'requestedAt'> & { now: Date }
    }
  | {
      type: 'RecordBatchProgress'
      data: { batchId: string; rowsDone: number; rowsFailed: number; now: Date }
    }
  | {
      type: 'CompleteBatchPrediction'
      data: Omit<BatchPredictionSucceeded['data'], 'finishedAt'> & { now: Date }
    }
  | { type: 'FailBatchPrediction'; data: { batchId: string; reason: string; now: Date } }

export function evolveBatch(
  state: BatchPredictionState,
  event: BatchPredictionEvent,
): BatchPredictionState {
  switch (event.type) {
    case 'BatchPredictionRequested':
      return { ...event.data, status: 'QUEUED', rowsDone: 0, rowsFailed: 0 }
    case 'BatchPredictionProgressed':
      if (state.status === 'absent') return state
      return {
        ...state,
        status: 'RUNNING',
        rowsDone: event.data.rowsDone,
        rowsFailed: event.data.rowsFailed,
      }
    case 'BatchPredictionSucceeded':
      if (state.status === 'absent') return state
      return {
        ...state,
        status: 'SUCCEEDED',
        rowsDone: event.data.rowsDone,
        rowsFailed: event.data.rowsFailed,
        result: event.data.output,
        finishedAt: event.data.finishedAt,
      }
    case 'BatchPredictionFailed':
      if (state.status === 'absent') return state
      return {
        ...state,
        status: 'FAILED',
        error: event.data.reason,
        finishedAt: event.data.finishedAt,
      }
    default: {
      const unknown: never = event
      return unknown
    }
  }
}

const finished = (state: BatchPredictionState) =>
  state.status === 'SUCCEEDED' || state.status === 'FAILED'

/**
 * Pure decisions on a batch prediction. A finished batch ignores late progress and a second
 * outcome (a redelivered job that finished twice records it once); progress never goes back.
 */
export function decideBatch(
  command: BatchPredictionCommand,
  state: BatchPredictionState,
): BatchPredictionEvent[] {
  switch (command.type) {
    case 'RequestBatchPrediction': {
      if (state.status !== 'absent') {
        if (isRepeatedCreate(state.requestHash, command.data.requestHash)) return []
        throw new IllegalStateError(`batch prediction ${command.data.batchId} already exists`)
      }
      const { now, ...data } = command.data
      return [
        { type: 'BatchPredictionRequested', data: { ...data, requestedAt: now.toISOString() } },
      ]
    }
    case 'RecordBatchProgress': {
      if (state.status === 'absent')
        throw new NotFoundError('batch prediction', command.data.batchId)
      if (
        finished(state) ||
        command.data.rowsDone + command.data.rowsFailed <= state.rowsDone + state.rowsFailed
      ) {
        return []
      }
      const { now, ...data } = command.data
      return [{ type: 'BatchPredictionProgressed', data: { ...data, at: now.toISOString() } }]
    }
    case 'CompleteBatchPrediction': {
      if (state.status === 'absent')
        throw new NotFoundError('batch prediction', command.data.batchId)
      if (finished(state)) return []
      const { now, ...data } = command.data
      return [
        { type: 'BatchPredictionSucceeded', data: { ...data, finishedAt: now.toISOString() } },
      ]
    }
    case 'FailBatchPrediction': {
      if (state.status === 'absent')
        throw new NotFoundError('batch prediction', command.data.batchId)
      if (finished(state)) return []
      return [
        {
          type: 'BatchPredictionFailed',
          data: {
            batchId: command.data.batchId,
            reason: command.data.reason,
            finishedAt: command.data.now.toISOString(),
          },
        },
      ]
    }
    default: {
      const unknown: never = command
      return unknown
    }
  }
}

export const batchPredictionDecider = {
  decide: decideBatch,
  evolve: evolveBatch,
  initialState: initialBatchState,
  eventTypes: BATCH_PREDICTION_EVENT_TYPES,
} satisfies AggregateDecider<BatchPredictionCommand, BatchPredictionEvent, BatchPredictionState>
