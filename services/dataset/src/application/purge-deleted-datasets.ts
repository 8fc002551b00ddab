import { handleCommand, loadAggregate } from '@argmax/events'
import { abortMultipartUpload, deletePrefix } from '@argmax/storage'
import { datasetDecider, datasetPrefix, versionDecider } from '../domain/index.ts'
import {
  findPurgeableDatasets,
  findStaleUploads,
  listVersions,
} from '../projections/catalog.queries.ts'
import { datasetSubject, versionSubject } from '../streams.ts'
import { abortUpload } from './abort-upload.ts'
import { finishCompletion } from './complete-upload.ts'
import type { DatasetDeps } from './dependencies.ts'

export const PURGE_ACTOR = 'system:purge'

export interface PurgeOptions {
  /** How long a soft-deleted dataset is kept (default 90 days, from configuration). */
  retentionMs: number
  /** Uploads left UPLOADING longer than this are aborted. */
  staleUploadMs: number
  /** Most datasets / uploads handled per run; the next run picks up the rest. */
  batch?: number
}

export interface PurgeReport {
  purged: Array<{ datasetId: string; objectsDeleted: number; versionIds: string[] }>
  abortedUploads: string[]
  /** Uploads left half-completed (claimed, never assembled or recorded) that were finished. */
  finishedCompletions: string[]
  failures: Array<{ id: string; error: string }>
}

/**
 * The housekeeping job: datasets deleted longer ago than the retention lose their files and
 * rows (DatasetPurged), abandoned uploads are aborted, and completions left half-done are
 * finished. Candidates come from the projection;
 * each decision is re-checked against the aggregate's events, so a lagging projection can
 * cause a skipped candidate but never a wrong purge. One failure does not stop the others.
 */
export async function purgeDeletedDatasets(
  deps: Pick<DatasetDeps, 'store' | 'names' | 'db' | 's3' | 'bucket' | 'now'>,
  options: PurgeOptions,
): Promise<PurgeReport> {
  const now = deps.now()
  const batch = options.batch ?? 100
  const report: PurgeReport = {
    purged: [],
    abortedUploads: [],
    finishedCompletions: [],
    failures: [],
  }

  const candidates = await findPurgeableDatasets(
    deps.db,
    new Date(now.getTime() - options.retentionMs),
    batch,
  )
  for (const datasetId of candidates) {
    try {
      const subject = datasetSubject(deps.names, datasetId)
      const { state } = await loadAggregate(deps.store, datasetDecider, subject)
      if (state.status !== 'deleted' || state.deletedAt === null) continue
      if (Date.parse(state.deletedAt) + options.retentionMs > now.getTime()) continue
      const versions = await listVersions(deps.db, datasetId)
      for (const version of versions.filter((v) => v.status === 'UPLOADING')) {
        const { state: upload } = await loadAggregate(
          deps.store,
          versionDecider,
          versionSubject(deps.names, version.id),
        )
        if (upload.status === 'UPLOADING' || upload.status === 'COMPLETING') {
          await abortMultipartUpload(deps.s3, {
            bucket: upload.bucket,
            key: upload.objectKey,
            uploadId: upload.s3UploadId,
          })
        }
      }
      // Every file of the dataset lives under its prefix (see object-keys.ts).
      const objectsDeleted = await deletePrefix(deps.s3, {
        bucket: deps.bucket,
        prefix: datasetPrefix(datasetId),
      })
      const versionIds = versions.map((v) => v.id)
      await handleCommand(
        deps.store,
        datasetDecider,
        subject,
        {
          type: 'PurgeDataset',
          data: { datasetId, now, retentionMs: options.retentionMs, versionIds, objectsDeleted },
        },
        { actor: PURGE_ACTOR },
      )
      report.purged.push({ datasetId, objectsDeleted, versionIds })
    } catch (error) {
      report.failures.push({ id: datasetId, error: String(error) })
    }
  }

  const stale = await findStaleUploads(
    deps.db,
    new Date(now.getTime() - options.staleUploadMs),
    batch,
  )
  for (const { versionId } of stale) {
    try {
      const { state } = await loadAggregate(
        deps.store,
        versionDecider,
        versionSubject(deps.names, versionId),
      )
      if (state.status === 'COMPLETING') {
        // A completion its client never retried after a failure: finish it on its behalf.
        await finishCompletion(deps, PURGE_ACTOR, state)
        report.finishedCompletions.push(versionId)
        continue
      }
      if (state.status !== 'UPLOADING') continue
      await abortUpload(deps, PURGE_ACTOR, state, 'expired')
      report.abortedUploads.push(versionId)
    } catch (error) {
      report.failures.push({ id: versionId, error: String(error) })
    }
  }
  return report
}
