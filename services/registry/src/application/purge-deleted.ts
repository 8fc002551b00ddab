import { parseS3Uri, type StoredObject } from '@argmax/contracts'
import { handleCommand, loadAggregate } from '@argmax/events'
import { deleteObject, deletePrefix } from '@argmax/storage'
import {
  modelDecider,
  modelPrefix,
  releaseDecider,
  servedVersions,
  uploadDecider,
  uploadPrefix,
  type VersionRecord,
} from '../domain/index.ts'
import {
  findPurgeableModels,
  findPurgeableVersions,
  findStaleUploads,
} from '../projections/catalog.queries.ts'
import { modelSubject, releaseSubject, uploadSubject } from '../streams.ts'
import { abortUpload } from './complete-upload.ts'
import type { RegistryDeps } from './dependencies.ts'

export const PURGE_ACTOR = 'system:purge' as const

export interface PurgeOptions {
  /** How long a soft-deleted model or version is kept (90 days by default). */
  retentionMs: number
  /** Manual uploads left open longer than this are aborted and their files deleted. */
  staleUploadMs: number
  /** Most candidates of each kind per run; the next run picks up the rest. */
  batch?: number
}

export interface PurgeReport {
  models: Array<{ model: string; versions: number[]; objectsDeleted: number }>
  versions: Array<{ model: string; version: number; objectsDeleted: number }>
  abortedUploads: string[]
  failures: Array<{ id: string; error: string }>
}

type Deps = Pick<RegistryDeps, 'store' | 'names' | 'db' | 's3' | 'bucket' | 'now'>

/**
 * The housekeeping job. Models and versions deleted longer ago than the retention lose their
 * artifacts (ModelPurged / ModelVersionPurged) — except objects of a version the model's current
 * release serves, which are never deleted —, and abandoned uploads are aborted. Candidates come
 * from the projection; each is re-checked against its events, so a lagging projection can cause
 * a skipped candidate but never a wrong purge. One failure does not stop the others.
 */
export async function purgeDeleted(deps: Deps, options: PurgeOptions): Promise<PurgeReport> {
  const now = deps.now()
  const batch = options.batch ?? 100
  const cutoff = new Date(now.getTime() - options.retentionMs)
  const report: PurgeReport = { models: [], versions: [], abortedUploads: [], failures: [] }

  for (const model of await findPurgeableModels(deps.db, cutoff, batch)) {
    try {
      const { state } = await loadAggregate(
        deps.store,
        modelDecider,
        modelSubject(deps.names, model),
      )
      if (state.status !== 'deleted' || state.deletedAt === null) continue
      if (Date.parse(state.deletedAt) + options.retentionMs > now.getTime()) continue
      const served = await servedNow(deps, model)
      const versions = Object.values(state.versions).filter((v) => v.status !== 'purged')
      let objectsDeleted = 0
      for (const version of versions) {
        if (!served.includes(version.version))
          objectsDeleted += await deleteVersionObjects(deps, model, version)
      }
      // Declared signatures live under the model's prefix, shared by its uploaded versions.
      if (served.length === 0) {
        objectsDeleted += await deletePrefix(deps.s3, {
          bucket: deps.bucket,
          prefix: modelPrefix(model),
        })
      }
      const purged = versions.map((v) => v.version).filter((v) => !served.includes(v))
      await handleCommand(
        deps.store,
        modelDecider,
        modelSubject(deps.names, model),
        {
          type: 'PurgeModel',
          data: { model, now, retentionMs: options.retentionMs, versions: purged, objectsDeleted },
        },
        { actor: PURGE_ACTOR },
      )
      report.models.push({ model, versions: purged, objectsDeleted })
    } catch (error) {
      report.failures.push({ id: model, error: String(error) })
    }
  }

  for (const { model, version } of await findPurgeableVersions(deps.db, cutoff, batch)) {
    const id = `${model}/${version}`
    try {
      const { state } = await loadAggregate(
        deps.store,
        modelDecider,
        modelSubject(deps.names, model),
      )
      const record = state.versions[version]
      if (!record || record.status !== 'deleted' || record.deletedAt === null) continue
      if (Date.parse(record.deletedAt) + options.retentionMs > now.getTime()) continue
      if ((await servedNow(deps, model)).includes(version)) continue
      const objectsDeleted = await deleteVersionObjects(deps, model, record)
      await handleCommand(
        deps.store,
        modelDecider,
        modelSubject(deps.names, model),
        {
          type: 'PurgeVersion',
          data: { model, version, now, retentionMs: options.retentionMs, objectsDeleted },
        },
        { actor: PURGE_ACTOR },
      )
      report.versions.push({ model, version, objectsDeleted })
    } catch (error) {
      report.failures.push({ id, error: String(error) })
    }
  }

  const staleCutoff = new Date(now.getTime() - options.staleUploadMs)
  for (const { uploadId } of await findStaleUploads(deps.db, staleCutoff, batch)) {
    try {
      const { state } = await loadAggregate(
        deps.store,
        uploadDecider,
        uploadSubject(deps.names, uploadId),
      )
      if (state.status !== 'STARTED') continue
      await abortUpload(deps, PURGE_ACTOR, state, 'expired')
      report.abortedUploads.push(uploadId)
    } catch (error) {
      report.failures.push({ id: uploadId, error: String(error) })
    }
  }
  return report
}

async function servedNow(deps: Deps, model: string): Promise<number[]> {
  const { state } = await loadAggregate(
    deps.store,
    releaseDecider,
    releaseSubject(deps.names, model),
  )
  return servedVersions(state.current)
}

/**
 * A version's own objects: an upload's prefix (its `model.onnx`), or each object a run's
 * version recorded (model, signature, metrics, logs …). Deleting what is already gone is fine:
 * a purge interrupted before its event is recorded runs again.
 */
async function deleteVersionObjects(
  deps: Deps,
  model: string,
  version: VersionRecord,
): Promise<number> {
  if (version.source.kind === 'upload' && 'uploadId' in version.source) {
    return deletePrefix(deps.s3, {
      bucket: deps.bucket,
      prefix: uploadPrefix(model, version.source.uploadId),
    })
  }
  let deleted = 0
  for (const object of uniqueObjects(version.artifacts)) {
    const location = parseS3Uri(object.uri)
    if (!location) continue
    await deleteObject(deps.s3, location)
    deleted++
  }
  return deleted
}

function uniqueObjects(objects: Record<string, StoredObject>): StoredObject[] {
  return [...new Map(Object.values(objects).map((o) => [o.uri, o])).values()]
}
