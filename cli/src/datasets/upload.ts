import { open, stat } from 'node:fs/promises'
import { basename, extname } from 'node:path'
import pRetry, { AbortError } from 'p-retry'
import type { DatasetClient, UploadView } from '@argmax/dataset-service/client'
import { sha256OfFile } from '@argmax/storage/hashing'
import { createPartRecorder } from './part-recorder.ts'
import { createPartUrls, type PartUrls } from './part-urls.ts'

export interface UploadProgress {
  phase: 'hashing' | 'uploading'
  /** Bytes hashed or stored so far (parts already stored before a resume count as done). */
  bytes: number
  totalBytes: number
}

export interface UploadOptions {
  api: DatasetClient
  datasetId: string
  filePath: string
  /** Inferred from the extension when absent (.csv → csv, .jsonl/.ndjson → jsonl). */
  format?: 'csv' | 'jsonl'
  /** Part size for a new upload; a resumed upload keeps its own. */
  partSize?: number
  /** Parts in flight at once. */
  concurrency?: number
  /** Resume this upload; otherwise an unfinished upload of the same file is found and resumed. */
  resumeUploadId?: string
  /** Start afresh even when an unfinished upload of the same file exists. */
  noResume?: boolean
  /** Already known (e.g. computed by the caller): skips hashing the file. */
  sha256?: string
  onProgress?: (progress: UploadProgress) => void
  /** Called once the upload is known, with how many parts were already stored. */
  onStart?: (upload: UploadView, resumedParts: number) => void
  signal?: AbortSignal
  fetchImpl?: typeof fetch
}

export interface UploadResult {
  datasetId: string
  versionId: string
  uploadId: string
  size: number
  sha256: string
  partCount: number
  resumedParts: number
  position: number
}

const PUT_ATTEMPTS = 4

export function formatOfFile(filePath: string): 'csv' | 'jsonl' | undefined {
  const extension = extname(filePath).toLowerCase()
  if (extension === '.csv') return 'csv'
  if (extension === '.jsonl' || extension === '.ndjson') return 'jsonl'
  return undefined
}

/**
 * Uploads a file as a new version of a dataset: presigned multipart PUTs straight to S3,
 * `concurrency` parts in flight, each part read from disk into one of `concurrency` reusable
 * buffers (memory: concurrency × partSize). Parts are reported to the service as they finish,
 * so an interrupted upload resumes from what the service recorded.
 */
export async function uploadFile(options: UploadOptions): Promise<UploadResult> {
  const { api, datasetId, filePath, signal } = options
  const fetchImpl = options.fetchImpl ?? fetch
  const concurrency = Math.max(1, Math.min(32, options.concurrency ?? 6))
  const format = options.format ?? formatOfFile(filePath)
  if (!format) {
    throw new Error(`cannot tell the format of ${filePath}: pass --format csv|jsonl`)
  }
  const { size } = await stat(filePath)
  const progress = (phase: UploadProgress['phase'], bytes: number) =>
    options.onProgress?.({ phase, bytes, totalBytes: size })

  let hashed = 0
  const sha256 =
    options.sha256 ??
    (await sha256OfFile(filePath, (bytes) => progress('hashing', (hashed += bytes)), signal))

  const upload = await findOrStartUpload(options, { size, sha256, format })
  const recorded = new Map(upload.parts.map((part) => [part.partNumber, part.etag]))
  options.onStart?.(upload, recorded.size)
  const partLength = (partNumber: number) =>
    Math.min(upload.partSize, size - (partNumber - 1) * upload.partSize)

  const pendingParts: number[] = []
  let stored = 0
  for (let partNumber = 1; partNumber <= upload.partCount; partNumber++) {
    if (recorded.has(partNumber)) stored += partLength(partNumber)
    else pendingParts.push(partNumber)
  }
  progress('uploading', stored)

  const uploadParams = { datasetId, uploadId: upload.uploadId }
  const recorder = createPartRecorder((parts) =>
    api.recordParts({ params: uploadParams, body: { parts } }),
  )
  const urls = createPartUrls({
    presign: (partNumbers) => api.presignParts({ params: uploadParams, body: { partNumbers } }),
    parts: pendingParts,
  })
  const file = await open(filePath, 'r')
  try {
    let next = 0
    const worker = async () => {
      const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(upload.partSize, size)))
      while (next < pendingParts.length) {
        signal?.throwIfAborted()
        const partNumber = pendingParts[next++]!
        const length = partLength(partNumber)
        const { bytesRead } = await file.read(buffer, 0, length, (partNumber - 1) * upload.partSize)
        if (bytesRead !== length) {
          throw new Error(`${filePath} changed while uploading (part ${partNumber} is short)`)
        }
        const etag = await putPart(urls, partNumber, buffer.subarray(0, length), fetchImpl, signal)
        recorded.set(partNumber, etag)
        recorder.add({ partNumber, etag })
        progress('uploading', (stored += length))
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, pendingParts.length) }, worker))
  } finally {
    await file.close()
  }
  await recorder.drain()
  const parts = [...recorded.entries()]
    .map(([partNumber, etag]) => ({ partNumber, etag }))
    .sort((a, b) => a.partNumber - b.partNumber)
  const completed = await api.completeUpload({ params: uploadParams, body: { parts } })
  return {
    datasetId,
    versionId: completed.versionId,
    uploadId: upload.uploadId,
    size,
    sha256,
    partCount: upload.partCount,
    resumedParts: upload.partCount - pendingParts.length,
    position: completed.position,
  }
}

async function findOrStartUpload(
  options: UploadOptions,
  file: { size: number; sha256: string; format: 'csv' | 'jsonl' },
): Promise<UploadView> {
  const { api, datasetId } = options
  if (options.resumeUploadId) {
    const upload = await api.getUpload({
      params: { datasetId, uploadId: options.resumeUploadId },
    })
    if (upload.size !== file.size || upload.sha256 !== file.sha256) {
      throw new Error(
        `upload ${upload.uploadId} was started for a different file (size or SHA-256 differ)`,
      )
    }
    if (upload.status !== 'UPLOADING') {
      throw new Error(`upload ${upload.uploadId} is ${upload.status}: nothing to resume`)
    }
    return upload
  }
  if (!options.noResume) {
    const { items } = await api.listVersions({
      params: { datasetId },
      query: { status: 'UPLOADING' },
    })
    const same = items.find((v) => v.size === file.size && v.sha256 === file.sha256)
    if (same) {
      const upload = await api.getUpload({ params: { datasetId, uploadId: same.id } })
      if (upload.status === 'UPLOADING') return upload
    }
  }
  // One logical create: the client sends one Idempotency-Key and reuses it on its retries, so
  // a start whose answer was lost makes no second version.
  return api.startUpload({
    params: { datasetId },
    body: {
      fileName: basename(options.filePath),
      size: file.size,
      sha256: file.sha256,
      format: file.format,
      ...(options.partSize ? { partSize: options.partSize } : {}),
    },
  })
}

async function putPart(
  urls: PartUrls,
  partNumber: number,
  body: Buffer,
  fetchImpl: typeof fetch,
  signal: AbortSignal | undefined,
): Promise<string> {
  let url = await urls.urlOf(partNumber)
  return pRetry(
    async () => {
      const response = await fetchImpl(url, {
        method: 'PUT',
        body,
        headers: { 'content-length': String(body.length) },
        ...(signal ? { signal } : {}),
      })
      await response.arrayBuffer()
      const etag = response.headers.get('etag')
      if (response.ok && etag) return etag
      const failure = new Error(`PUT part ${partNumber} → ${response.status}`)
      // An expired or otherwise refused signature: ask for a fresh URL.
      if (response.status === 403) url = await urls.fresh(partNumber)
      // S3 refused the part for a reason a retry will not fix.
      else if (response.status < 500) throw new AbortError(failure)
      throw failure
    },
    { retries: PUT_ATTEMPTS - 1, minTimeout: 250, factor: 2, ...(signal ? { signal } : {}) },
  )
}
