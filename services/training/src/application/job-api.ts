import type { Readable } from 'node:stream'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import {
  ForbiddenError,
  IllegalStateError,
  PayloadTooLargeError,
  ValidationError,
} from '@argmax/errors'
import { loadAggregate } from '@argmax/events'
import { isNotFound, openObjectStream } from '@argmax/storage'
import type { HeartbeatInput } from '../api/contract.ts'
import { runDecider } from '../domain/index.ts'
import { findRunRow } from '../projections/runs.queries.ts'
import { runSubject } from '../streams.ts'
import type { TrainingDeps } from './dependencies.ts'
import { ARTIFACT_NAME_PATTERN, artifactKey, checkpointKey } from './object-keys.ts'
import type { RunClaims } from './run-tokens.ts'

/**
 * What trainers do with their run-scoped token (the job contract, trainers/README.md): report
 * heartbeats, keep a checkpoint, upload artifacts. Each call is for the token's own run, and
 * writes only while the token's attempt is the one running — a job found alive after its
 * attempt was failed (a lost heartbeat, a timeout) cannot overwrite anything.
 */
type Deps = Pick<
  TrainingDeps,
  'store' | 'names' | 'db' | 's3' | 'bucket' | 'now' | 'heartbeats' | 'settings'
>

export function assertOwnRun(claims: RunClaims, runId: string): void {
  if (claims.runId !== runId)
    throw new ForbiddenError(`this run token is for run ${claims.runId}, not ${runId}`)
}

/** The attempt is the run's current one and the run is TRAINING; 409 otherwise. */
export async function assertCurrentAttempt(
  deps: Pick<Deps, 'store' | 'names' | 'db'>,
  runId: string,
  attempt: number,
): Promise<void> {
  const row = await findRunRow(deps.db, runId)
  if (row?.status === 'TRAINING' && row.attempt === attempt) return
  // The read model may be a moment behind the attempt's start: the events decide.
  const { state } = await loadAggregate(deps.store, runDecider, runSubject(deps.names, runId))
  if (state.status === 'TRAINING' && state.attempt === attempt) return
  const now = state.status === 'absent' ? 'unknown' : `${state.status}, attempt ${state.attempt}`
  throw new IllegalStateError(
    `attempt ${attempt} of run ${runId} is not running (the run is ${now})`,
  )
}

export async function recordHeartbeat(
  deps: Deps,
  claims: RunClaims,
  runId: string,
  body: HeartbeatInput,
): Promise<void> {
  assertOwnRun(claims, runId)
  if (body.attempt !== claims.attempt) {
    throw ValidationError.field(
      '/attempt',
      `this token is for attempt ${claims.attempt}, not ${body.attempt}`,
    )
  }
  await assertCurrentAttempt(deps, runId, claims.attempt)
  await deps.heartbeats.record({
    runId,
    attempt: body.attempt,
    iteration: body.iteration,
    totalIterations: body.totalIterations,
    metrics: body.metrics,
    ...(body.message !== undefined ? { message: body.message } : {}),
    receivedAt: deps.now().toISOString(),
  })
}

/** The run's checkpoint as a stream, or undefined when there is none yet (404). */
export async function openCheckpoint(
  deps: Deps,
  claims: RunClaims,
  runId: string,
): Promise<{ body: Readable; contentLength: number | undefined } | undefined> {
  assertOwnRun(claims, runId)
  try {
    return await openObjectStream(deps.s3, { bucket: deps.bucket, key: checkpointKey(runId) })
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

/**
 * A declared length within the limit, checked before a byte is read: 411 without one, 413
 * above the limit (the client learns it at once instead of after sending gigabytes).
 */
export function declaredLength(header: string | undefined, limit: number, field: string): number {
  if (header === undefined || !/^\d+$/.test(header)) {
    throw new LengthRequiredError(`${field}: send Content-Length (the body is streamed to storage)`)
  }
  const length = Number(header)
  if (length > limit) throw new PayloadTooLargeError(field, limit, length)
  return length
}

/** 411: the one refusal without a kind in the error vocabulary, answered by the routes. */
export class LengthRequiredError extends Error {
  readonly status = 411
}

export async function putCheckpoint(
  deps: Deps,
  claims: RunClaims,
  runId: string,
  body: Readable,
  contentLength: number,
): Promise<void> {
  assertOwnRun(claims, runId)
  await assertCurrentAttempt(deps, runId, claims.attempt)
  await putStream(deps, checkpointKey(runId), body, contentLength)
}

export async function putArtifact(
  deps: Deps,
  claims: RunClaims,
  runId: string,
  attempt: number,
  name: string,
  body: Readable,
  contentLength: number,
  contentType: string | undefined,
): Promise<void> {
  assertOwnRun(claims, runId)
  if (attempt !== claims.attempt) {
    throw new ForbiddenError(`this run token is for attempt ${claims.attempt}, not ${attempt}`)
  }
  if (!ARTIFACT_NAME_PATTERN.test(name)) {
    throw ValidationError.field(
      'path/name',
      'must be a file name: letters, digits, . _ - (not starting with .)',
    )
  }
  await assertCurrentAttempt(deps, runId, attempt)
  await putStream(deps, artifactKey(runId, attempt, name), body, contentLength, contentType)
}

async function putStream(
  deps: Deps,
  key: string,
  body: Readable,
  contentLength: number,
  contentType?: string,
): Promise<void> {
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.bucket,
      Key: key,
      Body: body,
      ContentLength: contentLength,
      ContentType: contentType ?? 'application/octet-stream',
    }),
  )
}
