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
