import { CopyObjectCommand } from '@aws-sdk/client-s3'
import {
  parseS3Uri,
  type FeedbackDatasetMaterializedData,
  type PlatformVersionLineage,
} from '@argmax/contracts'
import { handleCommand, loadAggregate, requestHash } from '@argmax/events'
import { markDependency } from '@argmax/errors'
import {
  datasetDecider,
  platformVersionDecider,
  versionObjectKey,
  type DatasetFormat,
} from '../domain/index.ts'
import { datasetSubject, versionSubject } from '../streams.ts'
import type { DatasetDeps } from './dependencies.ts'

export const PLATFORM_ACTOR = 'system:dataset-platform-versions'

/**
 * Registers a feedback dataset snapshot as a new dataset version (the dataset context's side of
 * `FeedbackDatasetMaterialized`): the model's feedback dataset is created on first use (owned by
 * the model's owner, under the id feedback chose), the object is copied into the dataset's own
 * prefix (so the dataset owns its bytes: purge and downloads work as for uploads), and the
 * version is started and completed with its lineage; the validator validates it like an upload.
 * Every step is idempotent, so a redelivery after a crash at any point finishes the job.
 */
export async function registerPlatformVersion(
  deps: Pick<DatasetDeps, 'store' | 'names' | 's3' | 'bucket' | 'now'>,
  snapshot: FeedbackDatasetMaterializedData,
  meta: { correlationId?: string; causationId?: string } = {},
): Promise<'registered' | 'already' | 'dataset_deleted'> {
  const { target } = snapshot
  const options = {
    actor: PLATFORM_ACTOR as `system:${string}`,
    ...(meta.correlationId ? { correlationId: meta.correlationId } : {}),
    ...(meta.causationId ? { causationId: meta.causationId } : {}),
  }
  const datasetRequest = { kind: 'feedback', model: snapshot.model, ownerId: snapshot.ownerId }
  const dataset = await handleCommand(
    deps.store,
    datasetDecider,
    datasetSubject(deps.names, target.datasetId),
    {
      type: 'CreateDataset',
      data: {
        datasetId: target.datasetId,
        name: target.datasetName,
        description: `Labelled predictions of model ${snapshot.model}, written by the feedback service`,
        tags: ['feedback', snapshot.model],
        ownerId: snapshot.ownerId,
        now: deps.now(),
        // The same request every time: the decider answers a repeat with no event.
        requestHash: requestHash(datasetRequest),
      },
    },
    options,
  )
  if (dataset.state.status !== 'active') return 'dataset_deleted'

  const versionSubjectName = versionSubject(deps.names, target.versionId)
  const existing = await loadAggregate(deps.store, platformVersionDecider, versionSubjectName)
  if (existing.state.status !== 'absent') return 'already'

  const format = snapshot.format as DatasetFormat
  const source = parseS3Uri(snapshot.object.uri)
  if (!source) throw new Error(`${snapshot.object.uri} is not an s3:// URI`)
  const key = versionObjectKey(target.datasetId, target.versionId, format)
  try {
    await deps.s3.send(
      new CopyObjectCommand({
        Bucket: deps.bucket,
        Key: key,
        CopySource: `${source.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}`,
      }),
    )
  } catch (error) {
    markDependency(error, 's3')
    throw error
  }
  const lineage: PlatformVersionLineage = {
    kind: 'feedback',
    feedbackDatasetId: snapshot.feedbackDatasetId,
    model: snapshot.model,
    versions: snapshot.versions,
    window: snapshot.window,
    source: snapshot.object,
  }
  const outcome = await handleCommand(
    deps.store,
    platformVersionDecider,
    versionSubjectName,
    {
      type: 'RegisterPlatformObject',
      data: {
        versionId: target.versionId,
        datasetId: target.datasetId,
        ownerId: snapshot.ownerId,
        request: {
          fileName: target.fileName,
          size: snapshot.object.size,
          sha256: snapshot.object.sha256,
          format,
        },
        bucket: deps.bucket,
        lineage,
        now: deps.now(),
      },
    },
    options,
  )
  return outcome.written > 0 ? 'registered' : 'already'
}
