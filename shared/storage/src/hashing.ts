import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { Transform, type Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/**
 * Bytes verified as they stream, so a download or a cached file is checked without reading it
 * twice and memory stays flat at any size. No S3 here: the CLI loads it on its own
 * (`@argmax/storage/hashing`).
 */

/** What passed through: its byte count and SHA-256 (lower-case hex). */
export interface HashedBytes {
  size: number
  sha256: string
}

export interface ByteLimit {
  maxBytes: number
  /** The error to fail with once `size` bytes have come, more than `maxBytes`. */
  tooLarge(size: number): Error
}

/**
 * Pipes `source` into `destination`, counting and hashing the bytes on their way. With a
 * `limit`, fails as soon as more than `maxBytes` have come, before writing them.
 */
export async function pipeHashed(
  source: Readable,
  destination: Writable,
  limit?: ByteLimit,
): Promise<HashedBytes> {
  const hash = createHash('sha256')
  let size = 0
  await pipeline(
    source,
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.byteLength
        if (limit && size > limit.maxBytes) return done(limit.tooLarge(size))
        hash.update(chunk)
        done(null, chunk)
      },
    }),
    destination,
  )
  return { size, sha256: hash.digest('hex') }
}

/** SHA-256 of a file, streamed; `onBytes` hears of every chunk read (a progress bar). */
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
