import { PayloadTooLargeError } from '@argmax/errors'
import { deciderSpec as spec } from '@argmax/events'
import { describe, expect, it } from 'vitest'
import {
  MAX_UPLOAD_BYTES,
  NO_MULTIPART_UPLOAD,
  platformVersionDecider,
  uploadCompletedEventId,
  type PlatformVersionCommand,
  type VersionEvent,
} from '../../src/domain/index.ts'

const now = new Date('2026-12-01T12:00:00.000Z')
const datasetId = '0190a5c8-0000-7000-8000-000000000001'
const versionId = '0190a5c8-0000-7000-8000-0000000000f1'
const sha256 = 'cd'.repeat(32)
const lineage = {
  kind: 'feedback' as const,
  feedbackDatasetId: versionId,
  model: 'movies',
  versions: [1, 2],
  window: { from: '2026-11-30T12:00:00.000Z', to: '2026-12-01T12:00:00.000Z' },
  source: { uri: 's3://argmax-analytics/feedback-datasets/movies/x/data.csv', sha256, size: 1234 },
}
const register = (size = 1234): PlatformVersionCommand => ({
  type: 'RegisterPlatformObject',
  data: {
    versionId,
    datasetId,
    ownerId: 'alice',
    request: { fileName: 'feedback-movies.csv', size, sha256, format: 'csv' },
    bucket: 'argmax-datasets',
    lineage,
    now,
  },
})
const objectKey = `datasets/${datasetId}/versions/${versionId}/data.csv`
const started: VersionEvent = {
  type: 'UploadStarted',
  data: {
    versionId,
    datasetId,
    ownerId: 'alice',
    fileName: 'feedback-movies.csv',
    format: 'csv',
    size: 1234,
    sha256,
    partSize: 8 * 1024 * 1024,
    partCount: 1,
    bucket: 'argmax-datasets',
    objectKey,
    s3UploadId: NO_MULTIPART_UPLOAD,
    startedAt: now.toISOString(),
    lineage,
  },
}
const completed: VersionEvent = {
  id: uploadCompletedEventId(versionId),
  type: 'UploadCompleted',
  data: {
    versionId,
    datasetId,
    bucket: 'argmax-datasets',
    objectKey,
    format: 'csv',
    size: 1234,
    sha256,
    partCount: 1,
    completedAt: now.toISOString(),
  },
}

describe('a version the platform wrote itself', () => {
  const versions = spec(platformVersionDecider)

  it('starts and completes in one decision, with its lineage, ready for the validator', () => {
    versions.given([]).when(register()).then([started, completed])
    const state = [started, completed].reduce(
      platformVersionDecider.evolve,
      platformVersionDecider.initialState,
    )
    expect(state.status).toBe('VALIDATING')
  })

  it('registers once: a redelivery writes nothing', () => {
    versions.given([started, completed]).when(register()).then([])
  })

  it('refuses an object larger than an upload may be', () => {
    versions
      .given([])
      .when(register(MAX_UPLOAD_BYTES + 1))
      .thenThrows(PayloadTooLargeError)
  })

  it('leaves every other command to the version decider', () => {
    versions
      .given([started, completed])
      .when({ type: 'AbortUpload', data: { versionId, reason: 'client', now } })
      .thenThrows(Error, /VALIDATING/)
  })
})
