import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { Readable, Transform } from 'node:stream'
import type { ReadableStream } from 'node:stream/web'
import { pipeline } from 'node:stream/promises'
import type { DatasetClient } from '@argmax/dataset-service/client'

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
  const hash = createHash('sha256')
  let size = 0
  const partial = `${path}.partial`
  try {
    await pipeline(
      Readable.fromWeb(response.body as ReadableStream<Uint8Array>),
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk)
          size += chunk.length
          done(null, chunk)
        },
      }),
      createWriteStream(partial),
    )
    const sha256 = hash.digest('hex')
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
