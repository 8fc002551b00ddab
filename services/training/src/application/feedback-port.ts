import type { ServiceCredential } from '@argmax/auth'
import { UnavailableError } from '@argmax/errors'
import { createFeedbackClient } from '@argmax/feedback-service/client'

/**
 * What a retrain pipeline asks of the feedback service, which owns labels and feedback datasets:
 * a command — materialise the labelled predictions since the serving version's release as a
 * feedback dataset (`POST /v1/feedback/datasets`) — with training's service credential and an
 * Idempotency-Key derived from the pipeline run, so that a restarted step gets the same dataset
 * rather than a second one. What became of it is read from feedback's events, not asked.
 */
export interface FeedbackPort {
  /** The feedback dataset's id (its dataset version gets the same id once registered). */
  requestSinceRelease(input: {
    model: string
    format: 'csv' | 'jsonl'
    idempotencyKey: string
  }): Promise<string>
}

export function createFeedbackPort(options: {
  baseUrl: string | undefined
  credential: ServiceCredential
}): FeedbackPort {
  return {
    async requestSinceRelease({ model, format, idempotencyKey }) {
      if (!options.baseUrl) {
        throw new UnavailableError(
          'the feedback service is not configured (ARGMAX_TRAINING_FEEDBACK_URL): a pipeline cannot build a fresh feedback dataset',
        )
      }
      const feedback = createFeedbackClient({
        baseUrl: options.baseUrl,
        token: await options.credential.token(),
      })
      const created = await feedback.createFeedbackDataset({
        idempotencyKey,
        body: { model, select: { sinceRelease: true }, format },
      })
      return created.item.id
    },
  }
}
