/** The dataset context's stream and subjects (DESIGN: `<context>.<aggregate>.<id>`). */
export const DATASET_STREAM = 'DATASET'
export const DATASET_SUBJECTS = ['dataset.>']

export function datasetSubject(datasetId: string): string {
  return `dataset.dataset.${datasetId}`
}

export function versionSubject(versionId: string): string {
  return `dataset.version.${versionId}`
}

export const VERSION_SUBJECTS = 'dataset.version.>'
