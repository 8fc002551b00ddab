/**
 * Where training keeps bytes in its bucket (`argmax-models`):
 *
 *   runs/<runId>/checkpoint/checkpoint          the run's checkpoint, shared by its attempts
 *   runs/<runId>/attempts/<n>/<name>            what attempt n uploaded (model.onnx, …)
 *   archive/runs/<runId>.json                   a finished run's record, once archived
 */
export function checkpointKey(runId: string): string {
  return `runs/${runId}/checkpoint/checkpoint`
}

export function attemptPrefix(runId: string, attempt: number): string {
  return `runs/${runId}/attempts/${attempt}/`
}

export function artifactKey(runId: string, attempt: number, name: string): string {
  return `${attemptPrefix(runId, attempt)}${name}`
}

export function archiveKey(runId: string): string {
  return `archive/runs/${runId}.json`
}

/** Artifact names: one path segment, no hidden files. */
export const ARTIFACT_NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/
