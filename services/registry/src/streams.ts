import type { StreamSpec } from '@argmax/events'

/**
 * The registry context's stream and subjects (`<context>.<aggregate>.<id>`): stream REGISTRY,
 * `registry.model.<name>` (the model, its versions, annotations and aliases),
 * `registry.release.<name>` (what serves its traffic) and `registry.upload.<id>` (manual
 * registrations). The names are a value so that tests running side by side each get their own.
 */
export interface StreamNames {
  stream: string
  /** First subject token; `registry` in production. */
  root: string
}

export const REGISTRY_STREAM_NAMES: StreamNames = { stream: 'REGISTRY', root: 'registry' }
export const REGISTRY_STREAM = REGISTRY_STREAM_NAMES.stream

/** Training's stream, which the registry follows for `TrainingRunQueued` / `…Succeeded`. */
export const TRAINING_STREAM_NAMES: StreamNames = { stream: 'TRAINING', root: 'training' }

export function modelSubject(names: StreamNames, model: string): string {
  return `${names.root}.model.${model}`
}

export function releaseSubject(names: StreamNames, model: string): string {
  return `${names.root}.release.${model}`
}

export function uploadSubject(names: StreamNames, uploadId: string): string {
  return `${names.root}.upload.${uploadId}`
}

/** `training.run.>`: where training publishes its runs' events. */
export function trainingRunSubjects(training: StreamNames): string {
  return `${training.root}.run.>`
}

/**
 * The registry's event stream: kept forever (it is the source of truth, and the inference
 * gateway replays the releases from it), file storage, and a two-minute duplicate window for
 * the ids that make retried appends idempotent.
 */
export function registryStreamSpec(names: StreamNames, replicas: number): StreamSpec {
  return {
    name: names.stream,
    subjects: [`${names.root}.>`],
    retention: 'limits',
    replicas,
    storage: 'file',
    duplicateWindow: 2 * 60 * 1000,
  }
}
