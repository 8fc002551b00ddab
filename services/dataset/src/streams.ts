import type { StreamSpec } from '@argmax/events'

/**
 * The dataset context's stream and subjects (DESIGN: `<context>.<aggregate>.<id>`): stream
 * DATASET, `dataset.dataset.<id>` and `dataset.version.<id>`. The names are a value rather
 * than constants so that tests running side by side each get a stream of their own.
 */
export interface StreamNames {
  stream: string
  /** First subject token; `dataset` in production. */
  root: string
}

export const DATASET_STREAM_NAMES: StreamNames = { stream: 'DATASET', root: 'dataset' }

export function datasetSubject(names: StreamNames, datasetId: string): string {
  return `${names.root}.dataset.${datasetId}`
}

export function versionSubject(names: StreamNames, versionId: string): string {
  return `${names.root}.version.${versionId}`
}

export function versionSubjects(names: StreamNames): string {
  return `${names.root}.version.>`
}

export function streamSubjects(names: StreamNames): string[] {
  return [`${names.root}.>`]
}

/**
 * The dataset context's event stream: kept forever (it is the source of truth; purges remove
 * files and rows, and the events of a purged dataset carry no file contents), file storage,
 * and a two-minute duplicate window for the ids that make retries idempotent.
 */
export function datasetStreamSpec(names: StreamNames, replicas: number): StreamSpec {
  return {
    name: names.stream,
    subjects: streamSubjects(names),
    retention: 'limits',
    replicas,
    storage: 'file',
    duplicateWindow: 2 * 60 * 1000,
  }
}
