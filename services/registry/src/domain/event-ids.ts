import { deterministicUuid } from '@argmax/events'

/**
 * Ids of events that must be written at most once however often their cause is retried: a
 * second append of the same id inside JetStream's duplicate window is dropped, and after it the
 * decider, which keys the same facts, decides nothing.
 */
export function sourceDecisionEventId(model: string, sourceKey: string): string {
  return deterministicUuid(`registry.model.${model}:${sourceKey}:decided`)
}

export function modelCreatedByRunEventId(model: string, runId: string): string {
  return deterministicUuid(`registry.model.${model}:created-by:run:${runId}`)
}

export function bootstrapReleaseEventId(model: string): string {
  return deterministicUuid(`registry.release.${model}:bootstrap`)
}

export function uploadCompletedEventId(uploadId: string): string {
  return deterministicUuid(`registry.upload.${uploadId}:completed`)
}
