import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'

/**
 * SHA-256 of a file, streamed (memory stays flat at any size). It is declared when the upload
 * starts, so the service can verify the stored bytes, and it is how a resumed upload proves it
 * is the same file as the interrupted one.
 */
export async function sha256OfFile(
  path: string,
  onBytes: (bytes: number) => void = () => {},
  signal?: AbortSignal,
): Promise<string> {
  const hash = createHash('sha256')
  const stream = createReadStream(path, {
    highWaterMark: 4 * 1024 * 1024,
    ...(signal ? { signal } : {}),
  })
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk)
    onBytes(chunk.length)
  }
  return hash.digest('hex')
}
