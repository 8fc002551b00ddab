import { ArgmaxError, IllegalStateError, UnavailableError } from '@argmax/errors'
import {
  ArtifactIntegrityError,
  ArtifactUnavailableError,
  type ArtifactCache,
} from '../artifacts/artifact-cache.ts'
import type { BatcherTimer, BatchReport } from '../batching/dynamic-batcher.ts'
import {
  modelSession,
  openModel,
  signatureMismatch,
  type SessionSettings,
} from '../onnx/onnx-session.ts'
import { ServedVersion } from '../serving/served-version.ts'
import type { VersionConfig } from './load-config.ts'

export interface VersionLoaderOptions {
  artifacts: ArtifactCache
  session: SessionSettings
  onBatch?(name: string, version: string, report: BatchReport): void
  now?: () => number
  timer?: BatcherTimer
}

export type VersionLoader = (
  name: string,
  version: string,
  config: VersionConfig,
) => Promise<ServedVersion>

/**
 * Loads one version: its artifact (verified, from the cache or S3), an ONNX Runtime session,
 * and a check that the model takes and gives what the signature says. Failures come back as
 * the error vocabulary with the reason: FAILED_PRECONDITION for an artifact that will not get
 * better by asking again (wrong hash, not ONNX, not matching its signature, missing), and
 * UNAVAILABLE for what may pass (S3 unreachable).
 */
export function createVersionLoader(options: VersionLoaderOptions): VersionLoader {
  return async (name, version, config) => {
    let lease
    try {
      lease = await options.artifacts.fetch(config.artifact, config.sha256)
    } catch (error) {
      if (error instanceof ArtifactIntegrityError || error instanceof ArtifactUnavailableError) {
        throw new IllegalStateError(error.message)
      }
      throw new UnavailableError(
        `${config.artifactUri} could not be downloaded: ${describe(error)}`,
      )
    }
    let session
    try {
      session = await openModel(lease.path, options.session)
    } catch (error) {
      throw new IllegalStateError(
        `ONNX Runtime cannot load ${config.artifactUri}: ${describe(error)}`,
      )
    } finally {
      lease.release()
    }
    const mismatch = signatureMismatch(session, config.signature)
    if (mismatch) {
      await session.release()
      throw new IllegalStateError(`${config.artifactUri} does not match its signature: ${mismatch}`)
    }
    return new ServedVersion({
      name,
      version,
      config,
      session: modelSession(session, config.signature),
      ...(options.onBatch
        ? { onBatch: (report: BatchReport) => options.onBatch!(name, version, report) }
        : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(options.timer ? { timer: options.timer } : {}),
    })
  }
}

function describe(error: unknown): string {
  if (error instanceof ArgmaxError) return error.message
  if (error instanceof AggregateError && error.errors.length > 0) {
    return describe(error.errors[0])
  }
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown } | null)?.code
  return message || (typeof code === 'string' ? code : 'unknown error')
}
