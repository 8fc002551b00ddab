import type { TrainingRunQueued } from '../../src/domain/index.ts'

export const runId = '0190a5c8-0000-7000-8000-0000000000r1'
export const queuedAt = '2026-03-02T10:00:00.000Z'

export function queuedData(
  overrides: Partial<TrainingRunQueued['data']> = {},
): TrainingRunQueued['data'] {
  return {
    runId,
    model: 'movies-rating',
    ownerId: 'alice',
    task: 'regression',
    dataset: {
      datasetId: 'd1',
      versionId: 'v1',
      sha256: 'ab'.repeat(32),
      size: 1000,
      format: 'csv',
      bucket: 'argmax-datasets',
      objectKey: 'datasets/d1/versions/v1/data.csv',
    },
    queuedAt,
    trainer: { kind: 'builtin', name: 'xgboost' },
    target: 'IMDB Rating',
    features: ['Running Time min', 'Major Genre'],
    featuresGiven: false,
    params: {},
    priority: 'normal',
    resources: { cpu: 1, memoryMb: 2048, gpus: 0 },
    timeoutSeconds: 36 * 3600,
    seed: 0,
    maxAttempts: 3,
    ...overrides,
  }
}

export const queued = (overrides: Partial<TrainingRunQueued['data']> = {}) =>
  ({ type: 'TrainingRunQueued', data: queuedData(overrides) }) as const

export function at(iso: string): Date {
  return new Date(iso)
}
