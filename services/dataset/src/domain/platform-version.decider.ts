import type { PlatformVersionLineage } from '@argmax/contracts'
import type { AggregateDecider } from '@argmax/events'
import { uploadCompletedEventId } from './event-ids.ts'
import { planUpload, uploadStarted, type UploadRequest } from './upload-request.ts'
import type { VersionEvent } from './version.events.ts'
import { versionDecider, type VersionCommand, type VersionState } from './version.decider.ts'

/**
 * A version the platform wrote itself (a feedback dataset snapshot): its bytes are already in
 * the dataset bucket, so there is no multipart upload — the version is started and completed in
 * one decision, carrying its lineage, and the validator then validates and profiles it like any
 * upload (VersionValidated or VersionRejected). Everything else is the version decider's.
 */
export type RegisterPlatformObject = {
  type: 'RegisterPlatformObject'
  data: {
    versionId: string
    datasetId: string
    ownerId: string
    request: UploadRequest
    bucket: string
    lineage: PlatformVersionLineage
    now: Date
  }
}

export type PlatformVersionCommand = VersionCommand | RegisterPlatformObject

/** What an UploadStarted of a platform object names instead of an S3 multipart upload id. */
export const NO_MULTIPART_UPLOAD = 'none:platform-object'

export function decidePlatformVersion(
  command: PlatformVersionCommand,
  state: VersionState,
): VersionEvent[] {
  if (command.type !== 'RegisterPlatformObject') return versionDecider.decide(command, state)
  const { versionId, datasetId, ownerId, request, bucket, lineage, now } = command.data
  // Registered already (a redelivered request): nothing more to record.
  if (state.status !== 'absent') return []
  const plan = planUpload(request, { datasetId, versionId })
  const at = now.toISOString()
  return [
    {
      type: 'UploadStarted',
      data: {
        ...uploadStarted(
          plan,
          { versionId, datasetId, ownerId },
          { bucket, s3UploadId: NO_MULTIPART_UPLOAD },
          at,
        ),
        lineage,
      },
    },
    {
      id: uploadCompletedEventId(versionId),
      type: 'UploadCompleted',
      data: {
        versionId,
        datasetId,
        bucket,
        objectKey: plan.objectKey,
        format: plan.format,
        size: plan.size,
        sha256: plan.sha256,
        partCount: plan.partCount,
        completedAt: at,
      },
    },
  ]
}

export const platformVersionDecider = {
  ...versionDecider,
  decide: decidePlatformVersion,
} satisfies AggregateDecider<PlatformVersionCommand, VersionEvent, VersionState>
