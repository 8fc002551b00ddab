import {
  FEEDBACK_EVENTS,
  type FeedbackDatasetPinnedData,
  type RetrainRequestedData,
} from '@argmax/contracts'
import { deterministicUuid, type AggregateDecider } from '@argmax/events'

/**
 * Feedback's aggregate per model, subject `feedback.model.<name>`: the retrain requests it
 * raised and the feedback dataset operators pinned — both published language
 * (`@argmax/contracts`), read by the training pipeline.
 */
export type ModelFeedbackEvent = (
  | {
      type: typeof FEEDBACK_EVENTS.retrainRequested
      data: RetrainRequestedData & { cause: string }
    }
  | { type: typeof FEEDBACK_EVENTS.datasetPinned; data: FeedbackDatasetPinnedData }
) & { id?: string }

export const MODEL_FEEDBACK_EVENT_TYPES = [
  FEEDBACK_EVENTS.retrainRequested,
  FEEDBACK_EVENTS.datasetPinned,
] as const satisfies ReadonlyArray<ModelFeedbackEvent['type']>

/** Causes remembered to refuse a second request for the same one (beyond the stream's window). */
const REMEMBERED_CAUSES = 200

export interface ModelFeedbackState {
  causes: string[]
  pinned: FeedbackDatasetPinnedData | null
}

export const initialModelFeedbackState: ModelFeedbackState = { causes: [], pinned: null }

export type ModelFeedbackCommand =
  | {
      type: 'RequestRetrain'
      /** `cause`: what asked (a state change's event id, an alert's fingerprint and start). */
      data: Omit<RetrainRequestedData, 'requestedAt'> & { cause: string; now: Date }
    }
  | {
      type: 'PinFeedbackDataset'
      data: Omit<FeedbackDatasetPinnedData, 'pinnedAt'> & { now: Date }
    }

export function retrainRequestId(model: string, cause: string): string {
  return deterministicUuid(`feedback.model.${model}:retrain:${cause}`)
}

export function evolveModelFeedback(
  state: ModelFeedbackState,
  event: ModelFeedbackEvent,
): ModelFeedbackState {
  switch (event.type) {
    case FEEDBACK_EVENTS.retrainRequested:
      return { ...state, causes: [...state.causes, event.data.cause].slice(-REMEMBERED_CAUSES) }
    case FEEDBACK_EVENTS.datasetPinned:
      return { ...state, pinned: event.data }
    default: {
      const unknown: never = event
      return unknown
    }
  }
}

export function decideModelFeedback(
  command: ModelFeedbackCommand,
  state: ModelFeedbackState,
): ModelFeedbackEvent[] {
  switch (command.type) {
    case 'RequestRetrain': {
      const { now, ...data } = command.data
      // One request per cause, however often the cause is delivered (redeliveries,
      // Alertmanager's repeat notifications).
      if (state.causes.includes(data.cause)) return []
      return [
        {
          id: retrainRequestId(data.model, data.cause),
          type: FEEDBACK_EVENTS.retrainRequested,
          data: { ...data, requestedAt: now.toISOString() },
        },
      ]
    }
    case 'PinFeedbackDataset': {
      const { now, ...data } = command.data
      if (state.pinned?.feedbackDatasetId === data.feedbackDatasetId) return []
      return [
        { type: FEEDBACK_EVENTS.datasetPinned, data: { ...data, pinnedAt: now.toISOString() } },
      ]
    }
    default: {
      const unknown: never = command
      return unknown
    }
  }
}

export const modelFeedbackDecider = {
  decide: decideModelFeedback,
  evolve: evolveModelFeedback,
  initialState: initialModelFeedbackState,
  eventTypes: MODEL_FEEDBACK_EVENT_TYPES,
} satisfies AggregateDecider<ModelFeedbackCommand, ModelFeedbackEvent, ModelFeedbackState>
