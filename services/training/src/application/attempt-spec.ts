import { UnavailableError } from '@argmax/errors'
import { presignGetObject } from '@argmax/storage'
import type { RunRecord } from '../domain/index.ts'
import type { AttemptSpec } from '../runners/runner.ts'
import type { TrainingDeps } from './dependencies.ts'

const WEEK_SECONDS = 7 * 24 * 3600
/** A run token outlives the deadline a little: the job is killed at the deadline anyway. */
const TOKEN_GRACE_MS = 5 * 60_000

/**
 * What a runner needs to start an attempt: the job contract's variables (trainers/README.md)
 * — a presigned GET of the dataset version's file, the job's parameters, the API's URL and a
 * run-scoped token expiring with the run's deadline — and the wall-clock limit left.
 */
export async function attemptSpec(
  deps: Pick<TrainingDeps, 's3' | 'runTokens' | 'apiUrl' | 'now' | 'settings'>,
  run: RunRecord,
  attempt: number,
  deadline: Date,
): Promise<AttemptSpec> {
  const apiUrl = deps.apiUrl()
  if (apiUrl === undefined) {
    throw new UnavailableError('the training API is not listening yet', { dependency: 'http' })
  }
  const q = run.queued
  const remainingSeconds = Math.max(
    1,
    Math.ceil((deadline.getTime() - deps.now().getTime()) / 1000),
  )
  const datasetUrl = await presignGetObject(deps.s3, {
    bucket: q.dataset.bucket,
    key: q.dataset.objectKey,
    // SigV4 allows a week; the trainer opens it at the start of the attempt.
    expiresInSeconds: Math.min(WEEK_SECONDS, Math.max(3600, remainingSeconds)),
  })
  // More versions of the same table, read after the dataset (trainers/README.md).
  const extraDatasets = await Promise.all(
    (q.extraDatasets ?? []).map(async (d) => ({
      url: await presignGetObject(deps.s3, {
        bucket: d.bucket,
        key: d.objectKey,
        expiresInSeconds: Math.min(WEEK_SECONDS, Math.max(3600, remainingSeconds)),
      }),
      format: d.format,
      sha256: d.sha256,
    })),
  )
  const token = await deps.runTokens.mint({
    runId: q.runId,
    attempt,
    expiresAt: new Date(deadline.getTime() + TOKEN_GRACE_MS),
  })
  const params = {
    target: q.target,
    ...(q.featuresGiven ? { features: q.features } : {}),
    task: q.task,
    seed: q.seed,
    params: q.params,
    ...(q.checkpointEvery !== undefined ? { checkpointEvery: q.checkpointEvery } : {}),
  }
  // Heartbeats at least four times per liveness window (and at least every 30 s).
  const heartbeatSeconds = Math.max(
    1,
    Math.min(30, Math.floor(deps.settings.heartbeatWindowMs / 4000)),
  )
  return {
    runId: q.runId,
    attempt,
    ownerId: q.ownerId,
    trainer: q.trainer,
    env: {
      ARGMAX_RUN_ID: q.runId,
      ARGMAX_ATTEMPT: String(attempt),
      ARGMAX_DATASET_URL: datasetUrl,
      ARGMAX_DATASET_FORMAT: q.dataset.format,
      ARGMAX_DATASET_SHA256: q.dataset.sha256,
      ARGMAX_PARAMS: JSON.stringify(params),
      ARGMAX_API_URL: apiUrl,
      ARGMAX_RUN_TOKEN: token,
      ARGMAX_HEARTBEAT_SECONDS: String(heartbeatSeconds),
      ARGMAX_HOLDOUT_MAX_ROWS: String(deps.settings.holdoutMaxRows),
      ...(extraDatasets.length > 0 ? { ARGMAX_EXTRA_DATASETS: JSON.stringify(extraDatasets) } : {}),
      ...(q.trainer.kind === 'image' ? { ARGMAX_TRAINER_IMAGE: q.trainer.image } : {}),
    },
    resources: q.resources,
    timeoutSeconds: remainingSeconds,
  }
}
