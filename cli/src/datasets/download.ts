import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { ReadableStream } from 'node:stream/web'
import type { DatasetClient } from '@argmax/dataset-service/client'
import { pipeHashed } from '@argmax/storage/hashing'

/**
 * Downloads a validated version through its presigned URL into `outputPath`, streaming and
 * hashing as it goes; the file only appears under its name once its SHA-256 matched.
 */
export async function downloadVersion(options: {
  api: DatasetClient
  datasetId: string
  versionId: string
  outputPath?: string
  fetchImpl?: typeof fetch
}): Promise<{ path: string; size: number; sha256: string }> {
  const link = await options.api.downloadVersion({
    params: { datasetId: options.datasetId, versionId: options.versionId },
  })
  const path = options.outputPath ?? link.fileName
  const response = await (options.fetchImpl ?? fetch)(link.url)
  if (!response.ok || !response.body) throw new Error(`download failed: HTTP ${response.status}`)
  const partial = `${path}.partial`
  try {
    const { size, sha256 } = await pipeHashed(
      Readable.fromWeb(response.body as ReadableStream<Uint8Array>),
      createWriteStream(partial),
    )
    if (sha256 !== link.sha256 || size !== link.size) {
      throw new Error(
        `downloaded bytes do not match the version (sha256 ${sha256}, ${size} bytes; expected ${link.sha256}, ${link.size} bytes)`,
      )
    }
    await rename(partial, path)
    return { path, size, sha256 }
  } catch (error) {
    await rm(partial, { force: true })
    throw error
  }
}
