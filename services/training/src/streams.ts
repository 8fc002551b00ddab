import type { StreamSpec } from '@argmax/events'

/**
 * The training context's streams and subjects (DESIGN: `<context>.<aggregate>.<id>`):
 *
 * - `TRAINING` captures `training.>`: runs on `training.run.<runId>`, quotas on
 *   `training.quota.<user>`, retrain pipelines on `training.pipeline.<model>`. Kept forever: the
 *   source of truth.
 * - `TRAINING_HEARTBEATS` captures `training-heartbeat.<runId>`: what trainers report while
 *   they work (progress, metrics). A log, not domain events: kept `heartbeatRetentionDays`;
 *   the liveness check reads the newest per run, the metrics history is its projection. Its
 *   root is outside `training.>` (JetStream refuses overlapping streams).
 *
 * Names are a value, not constants, so that tests running side by side each get their own.
 */
export interface TrainingStreamNames {
  stream: string
  /** First subject token; `training` in production. */
  root: string
}

export const TRAINING_STREAM_NAMES: TrainingStreamNames = { stream: 'TRAINING', root: 'training' }
/** Kept for the shell test and tools that name the stream. */
export const TRAINING_STREAM = TRAINING_STREAM_NAMES.stream

/** The DATASET stream training projects dataset versions from (event-carried state transfer). */
export interface DatasetStreamNames {
  stream: string
  root: string
}
export const DATASET_STREAM_NAMES: DatasetStreamNames = { stream: 'DATASET', root: 'dataset' }

export function runSubject(names: TrainingStreamNames, runId: string): string {
  return `${names.root}.run.${runId}`
}

export function runSubjects(names: TrainingStreamNames): string {
  return `${names.root}.run.>`
}

export function pipelineSubject(names: TrainingStreamNames, model: string): string {
  return `${names.root}.pipeline.${model}`
}

export function pipelineSubjects(names: TrainingStreamNames): string {
  return `${names.root}.pipeline.>`
}

/** Streams of other contexts the retrain pipelines follow (REGISTRY, FEEDBACK). */
export interface ForeignStreamNames {
  stream: string
  root: string
}

export function quotaSubject(names: TrainingStreamNames, userId: string): string {
  return `${names.root}.quota.${subjectToken(userId)}`
}

export function quotaSubjects(names: TrainingStreamNames): string {
  return `${names.root}.quota.>`
}

export function heartbeatStream(names: TrainingStreamNames): string {
  return `${names.stream}_HEARTBEATS`
}

export function heartbeatSubject(names: TrainingStreamNames, runId: string): string {
  return `${names.root}-heartbeat.${runId}`
}

/** The key-value bucket of the scheduler's lease (its stream is `KV_<bucket>`). */
export function leaseBucket(names: TrainingStreamNames): string {
  return `${names.stream}_LEASES`
}

/**
 * A user id as one subject token. JWT subjects may hold dots, `@`, `:` …: ids made only of
 * letters, digits, `_` and `-` stand as they are; any other is `~` + its base64url, which no
 * plain id can be (they never start with `~`).
 */
export function subjectToken(id: string): string {
  return /^[A-Za-z0-9_-]{1,100}$/.test(id)
    ? id
    : `~${Buffer.from(id, 'utf8').toString('base64url')}`
}

export function trainingStreamSpecs(
  names: TrainingStreamNames,
  replicas: number,
  heartbeatRetentionDays: number,
): StreamSpec[] {
  return [
    {
      name: names.stream,
      subjects: [`${names.root}.>`],
      retention: 'limits',
      replicas,
      storage: 'file',
      duplicateWindow: 2 * 60 * 1000,
    },
    {
      name: heartbeatStream(names),
      subjects: [`${names.root}-heartbeat.>`],
      retention: 'limits',
      replicas,
      storage: 'file',
      maxAge: heartbeatRetentionDays * 24 * 3600 * 1000,
    },
  ]
}
