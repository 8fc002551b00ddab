import {
  FEEDBACK_EVENTS,
  type FeedbackDatasetMaterializedData,
  type FeedbackDatasetSelection,
} from '@argmax/contracts'
import { IllegalStateError } from '@argmax/errors'
import { deterministicUuid, isRepeatedCreate, type AggregateDecider } from '@argmax/events'

/**
 * A feedback dataset, subject `feedback.dataset.<id>`: requested → materialized (a snapshot of
 * labelled predictions in S3, `FeedbackDatasetMaterialized`, which the dataset context registers
 * as a dataset version) | empty (no labelled prediction matched) | failed (given up on).
 */
export interface FeedbackDatasetRequested {
  type: 'FeedbackDatasetRequested'
  data: {
    feedbackDatasetId: string
    model: string
    ownerId: string
    requestedBy: string
    selection: FeedbackDatasetSelection
    format: 'csv' | 'jsonl'
    /** Where the dataset context will register it (see the contract). */
    target: FeedbackDatasetMaterializedData['target']
    requestedAt: string
    requestHash?: string
  }
}

export type FeedbackDatasetEvent = (
  | FeedbackDatasetRequested
  | { type: typeof FEEDBACK_EVENTS.datasetMaterialized; data: FeedbackDatasetMaterializedData }
  | {
      type: 'FeedbackDatasetEmpty'
      data: { feedbackDatasetId: string; window: { from: string; to: string }; at: string }
    }
  | {
      type: 'FeedbackDatasetFailed'
      data: { feedbackDatasetId: string; error: string; at: string }
    }
) & { id?: string }

export const FEEDBACK_DATASET_EVENT_TYPES = [
  'FeedbackDatasetRequested',
  FEEDBACK_EVENTS.datasetMaterialized,
  'FeedbackDatasetEmpty',
  'FeedbackDatasetFailed',
] as const satisfies ReadonlyArray<FeedbackDatasetEvent['type']>

export type FeedbackDatasetStatus = 'REQUESTED' | 'MATERIALIZED' | 'EMPTY' | 'FAILED'

export type FeedbackDatasetState =
  { status: 'absent' } | (FeedbackDatasetRequested['data'] & { status: FeedbackDatasetStatus })

export type FeedbackDatasetCommand =
  | {
      type: 'RequestFeedbackDataset'
      data: Omit<FeedbackDatasetRequested['data'], 'requestedAt'> & { now: Date }
    }
  | {
      type: 'RecordSnapshot'
      data: Omit<FeedbackDatasetMaterializedData, 'materializedAt'> & { now: Date }
    }
  | {
      type: 'RecordEmpty'
      data: { feedbackDatasetId: string; window: { from: string; to: string }; now: Date }
    }
  | { type: 'RecordFailure'; data: { feedbackDatasetId: string; error: string; now: Date } }

/** The dataset all of a model's feedback datasets become versions of. */
export function feedbackDatasetTarget(
  model: string,
  feedbackDatasetId: string,
  format: 'csv' | 'jsonl',
) {
  return {
    datasetId: deterministicUuid(`feedback.dataset-of-model:${model}`),
    datasetName: `feedback-${model}`,
    versionId: feedbackDatasetId,
    fileName: `feedback-${model}-${feedbackDatasetId}.${format}`,
  }
}

export function evolveFeedbackDataset(
  state: FeedbackDatasetState,
  event: FeedbackDatasetEvent,
): FeedbackDatasetState {
  switch (event.type) {
    case 'FeedbackDatasetRequested':
      return { ...event.data, status: 'REQUESTED' }
    case FEEDBACK_EVENTS.datasetMaterialized:
      return state.status === 'absent' ? state : { ...state, status: 'MATERIALIZED' }
    case 'FeedbackDatasetEmpty':
      return state.status === 'absent' ? state : { ...state, status: 'EMPTY' }
    case 'FeedbackDatasetFailed':
      return state.status === 'absent' ? state : { ...state, status: 'FAILED' }
    default: {
      const unknown: never = event
      return unknown
    }
  }
}

export function decideFeedbackDataset(
  command: FeedbackDatasetCommand,
  state: FeedbackDatasetState,
): FeedbackDatasetEvent[] {
  switch (command.type) {
    case 'RequestFeedbackDataset': {
      const { now, ...data } = command.data
      if (state.status !== 'absent') {
        if (isRepeatedCreate(state.requestHash, data.requestHash)) return []
        throw new IllegalStateError(`feedback dataset ${data.feedbackDatasetId} already exists`)
      }
      return [
        { type: 'FeedbackDatasetRequested', data: { ...data, requestedAt: now.toISOString() } },
      ]
    }
    case 'RecordSnapshot': {
      const { now, ...data } = command.data
      // One outcome per feedback dataset: a materializer that re-ran after a crash writes none.
      if (state.status !== 'REQUESTED') return []
      return [
        {
          id: deterministicUuid(`feedback.dataset.${data.feedbackDatasetId}:outcome`),
          type: FEEDBACK_EVENTS.datasetMaterialized,
          data: { ...data, materializedAt: now.toISOString() },
        },
      ]
    }
    case 'RecordEmpty': {
      const { now, ...data } = command.data
      if (state.status !== 'REQUESTED') return []
      return [
        {
          id: deterministicUuid(`feedback.dataset.${data.feedbackDatasetId}:outcome`),
          type: 'FeedbackDatasetEmpty',
          data: { ...data, at: now.toISOString() },
        },
      ]
    }
    case 'RecordFailure': {
      const { now, ...data } = command.data
      if (state.status !== 'REQUESTED') return []
      return [
        {
          id: deterministicUuid(`feedback.dataset.${data.feedbackDatasetId}:outcome`),
          type: 'FeedbackDatasetFailed',
          data: { ...data, at: now.toISOString() },
        },
      ]
    }
    default: {
      const unknown: never = command
      return unknown
    }
  }
}

export const feedbackDatasetDecider = {
  decide: decideFeedbackDataset,
  evolve: evolveFeedbackDataset,
  initialState: { status: 'absent' } as FeedbackDatasetState,
  eventTypes: FEEDBACK_DATASET_EVENT_TYPES,
} satisfies AggregateDecider<FeedbackDatasetCommand, FeedbackDatasetEvent, FeedbackDatasetState>
