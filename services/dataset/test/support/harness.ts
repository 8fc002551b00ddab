import { createHash } from 'node:crypto'
import { generateDevSecret, mintDevToken, type Role } from '@argmax/auth'
import { createLogger } from '@argmax/telemetry'
import {
  type ApiCall,
  connectNats,
  freshBucket,
  injectedApi,
  stackEnv,
  uniqueName,
} from '@argmax/testkit'
import { expect } from 'vitest'
import type { DatasetConfig } from '../../src/config.ts'
import { datasetTestConfig } from '../../src/testing.ts'
import { startDatasetService, type RunningDatasetService } from '../../src/service.ts'
import type { StreamNames } from '../../src/streams.ts'

export const MiB = 1024 * 1024
const DAY = 24 * 3600 * 1000

export interface Harness {
  service: RunningDatasetService
  names: StreamNames
  bucket: string
  config: DatasetConfig
  /** Moves the service's clock (deletion dates, purge cut-offs). */
  clock: { now: () => Date; advance(ms: number): void }
  tokens: Record<'alice' | 'bob' | 'admin' | 'analyst', string>
  call: ApiCall
  stop(): Promise<void>
}

/**
 * The dataset service in this process against the test kit's real servers: a stream, schema and
 * bucket of its own, the embedded validator unless `validator: 'off'`.
 */
export async function startHarness(
  options: {
    validator?: 'embedded' | 'off'
    retentionDays?: number
    ackWaitMs?: number
    /** Lifetime of presigned URLs (default 600 s). */
    presignExpirySeconds?: number
    /** Listen on a free port (for clients that need a URL, like the CLI). */
    listen?: boolean
  } = {},
): Promise<Harness> {
  const { bucket } = await freshBucket('datasets')
  const names: StreamNames = { stream: uniqueName('DATASET'), root: uniqueName('ds') }
  const secret = generateDevSecret()
  let nowMs = Date.now()
  const clock = { now: () => new Date(nowMs), advance: (ms: number) => void (nowMs += ms) }
  const config = datasetTestConfig({
    stackEnv: stackEnv(),
    secret,
    bucket,
    schema: uniqueName('dataset').toLowerCase(),
    names,
    feedback: { stream: uniqueName('FEEDBACK'), root: uniqueName('fb') },
    dataset: {
      retentionMs: (options.retentionDays ?? 90) * DAY,
      presignExpirySeconds: options.presignExpirySeconds ?? 600,
      validator: options.validator ?? 'embedded',
      validatorAckWaitMs: options.ackWaitMs ?? 10_000,
    },
  })
  const service = await startDatasetService({
    config,
    logger: createLogger({ service: 'dataset-test', level: 'warn' }),
    nc: await connectNats(),
    now: clock.now,
    listen: options.listen ?? false,
  })
  const mint = (subject: string, roles: Role[]) =>
    mintDevToken({ secret, subject, roles, ttl: 3600 })
  const tokens = {
    alice: await mint('alice', ['user']),
    bob: await mint('bob', ['user']),
    admin: await mint('root', ['admin']),
    analyst: await mint('ann', ['analyst']),
  }
  return {
    service,
    names,
    bucket,
    config,
    clock,
    tokens,
    call: injectedApi(service.app),
    stop: () => service.stop(),
  }
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export async function createDatasetAs(h: Harness, token: string, name = 'movies'): Promise<string> {
  const created = await h.call<{ id: string }>('POST', '/v1/datasets', token, { name })
  expect(created.status).toBe(201)
  return created.body.id
}

export interface UploadedVersion {
  versionId: string
  position: number
}

/**
 * The client's side of an upload, for real: start, presigned URLs, PUT each part to S3 with
 * fetch, record the ETags, complete. `parts` yields each part's bytes in order (so large files
 * can be generated on the fly); `declared` overrides what is declared at the start.
 */
export async function uploadThroughApi(
  h: Harness,
  token: string,
  datasetId: string,
  file: {
    fileName: string
    format: 'csv' | 'jsonl'
    size: number
    sha256: string
    partSize?: number
    parts: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>
  },
): Promise<UploadedVersion> {
  const started = await h.call<{ uploadId: string; partCount: number }>(
    'POST',
    `/v1/datasets/${datasetId}/uploads`,
    token,
    {
      fileName: file.fileName,
      size: file.size,
      sha256: file.sha256,
      format: file.format,
      ...(file.partSize ? { partSize: file.partSize } : {}),
    },
  )
  expect(started.status, JSON.stringify(started.body)).toBe(201)
  const { uploadId } = started.body
  const base = `/v1/datasets/${datasetId}/uploads/${uploadId}`
  const etags: Array<{ partNumber: number; etag: string }> = []
  let partNumber = 0
  for await (const bytes of file.parts()) {
    partNumber++
    const presigned = await h.call<{ parts: Array<{ url: string }> }>(
      'POST',
      `${base}/parts`,
      token,
      { partNumbers: [partNumber] },
    )
    expect(presigned.status).toBe(200)
    const put = await fetch(presigned.body.parts[0]!.url, { method: 'PUT', body: bytes })
    expect(put.status).toBe(200)
    etags.push({ partNumber, etag: put.headers.get('etag')! })
  }
  const recorded = await h.call('POST', `${base}/parts/recorded`, token, { parts: etags })
  expect(recorded.status, JSON.stringify(recorded.body)).toBe(200)
  const completed = await h.call<{ position: number }>('POST', `${base}/complete`, token, {
    parts: etags,
  })
  expect(completed.status, JSON.stringify(completed.body)).toBe(202)
  return { versionId: uploadId, position: completed.body.position }
}

/** Uploads small in-memory bytes as one part (a file under 5 MiB is one, last, part). */
export function uploadBytes(
  h: Harness,
  token: string,
  datasetId: string,
  bytes: Uint8Array,
  options: {
    fileName?: string
    format?: 'csv' | 'jsonl'
    declaredSize?: number
    declaredSha256?: string
  } = {},
): Promise<UploadedVersion> {
  return uploadThroughApi(h, token, datasetId, {
    fileName: options.fileName ?? 'data.csv',
    format: options.format ?? 'csv',
    size: options.declaredSize ?? bytes.length,
    sha256: options.declaredSha256 ?? sha256Hex(bytes),
    parts: () => [bytes],
  })
}

export interface VersionBody {
  id: string
  status: string
  rowCount: number | null
  schema: Array<{ name: string; type: string; nullable: boolean }> | null
  profile: {
    rowCount: number
    columns: Array<{
      name: string
      nulls: number
      numeric?: { min: number; max: number; mean: number }
    }>
  } | null
  errors: Array<{ row?: number; column?: string; code: string; message: string }>
  fileName: string
  checksumMismatch: boolean
}

/** Polls the version (read-your-writes from the complete's position) until it has an outcome. */
export async function waitForOutcome(
  h: Harness,
  token: string,
  datasetId: string,
  versionId: string,
  position: number,
  timeoutMs = 60_000,
): Promise<VersionBody> {
  const deadline = Date.now() + timeoutMs
  for (let attempt = 0; ; attempt++) {
    const response = await h.call<VersionBody>(
      'GET',
      `/v1/datasets/${datasetId}/versions/${versionId}?minPosition=${position}`,
      token,
    )
    expect(response.status).toBe(200)
    if (!['UPLOADING', 'VALIDATING'].includes(response.body.status)) return response.body
    if (Date.now() > deadline) throw new Error(`version ${versionId} still ${response.body.status}`)
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, 50 * (attempt + 1))))
  }
}
