import { createHash } from 'node:crypto'

/**
 * A UUID (version 8, RFC 9562's "custom" layout) derived from a name. Used for events that
 * must be written at most once however often their cause is retried — the validation outcome
 * of a version: a second append of the same id is dropped by JetStream's duplicate window,
 * and the decider refuses a second outcome after that window.
 */
export function deterministicEventId(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x80
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export function validationOutcomeEventId(versionId: string): string {
  return deterministicEventId(`dataset.version.${versionId}:validation-outcome`)
}

export function uploadCompletedEventId(versionId: string): string {
  return deterministicEventId(`dataset.version.${versionId}:upload-completed`)
}
