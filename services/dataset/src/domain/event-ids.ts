import { deterministicUuid } from '@argmax/events'

/**
 * Ids of events that must be written at most once however often their cause is retried — the
 * validation outcome of a version: a second append of the same id is dropped by JetStream's
 * duplicate window, and the decider refuses a second outcome after that window.
 */
export const deterministicEventId = deterministicUuid

export function validationOutcomeEventId(versionId: string): string {
  return deterministicEventId(`dataset.version.${versionId}:validation-outcome`)
}

export function uploadCompletedEventId(versionId: string): string {
  return deterministicEventId(`dataset.version.${versionId}:upload-completed`)
}
