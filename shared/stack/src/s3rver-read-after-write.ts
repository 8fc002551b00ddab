import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Readable, Transform, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

interface StoredObject {
  bucket: string
  key: string
  content: Buffer | Readable
  metadata: Record<string, string>
}

/** The methods of s3rver 3.7's FilesystemStore that writing an object or a part goes through. */
export interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string
  putMetadata(
    bucket: string,
    key: string,
    metadata: Record<string, string>,
    md5: string,
  ): Promise<void>
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>
  putPart(
    bucket: string,
    uploadId: string,
    partNumber: number,
    content: Readable,
  ): Promise<{ size: number; md5: string }>
}

/**
 * s3rver 3.7's filesystem store answers a PUT, an UploadPart and a CompleteMultipartUpload
 * (which writes the object again from its parts) as soon as its hashing stream has passed the
 * last byte on, before the file stream has written it. A read right after can then see a short
 * object — a HEAD answered size 0 for 24 bytes just PUT through a presigned URL (CI,
 * 2026-12-03) — and a completion right after a part can concatenate a short part. S3 reads its
 * writes; here both writes now answer only once the file holds every byte.
 */
export function readAfterWrite(store: FilesystemStore): void {
  store.putObject = async (object) => {
    const path = store.getResourcePath(object.bucket, object.key, 'object')
    const content = Buffer.isBuffer(object.content)
      ? Readable.from([object.content])
      : object.content
    const written = await writeHashed(content, path)
    await store.putMetadata(object.bucket, object.key, object.metadata, written.md5)
    return written
  }
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const path = join(
      store.getResourcePath(bucket, undefined, 'uploads'),
      uploadId,
      String(partNumber),
    )
    const written = await writeHashed(content, path)
    await writeFile(`${path}.md5`, written.md5)
    return written
  }
}

/**
 * Writes `content` to `path` and resolves with its size and MD5 once the file has taken every
 * byte (`open` makes the file stream: a seam for tests).
 */
export async function writeHashed(
  content: Readable,
  path: string,
  open: (path: string) => Writable = (file) => createWriteStream(file),
): Promise<{ size: number; md5: string }> {
  await mkdir(dirname(path), { recursive: true })
  const md5 = createHash('md5')
  let size = 0
  await pipeline(
    content,
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        md5.update(chunk)
        size += chunk.length
        done(null, chunk)
      },
    }),
    open(path),
  )
  return { size, md5: md5.digest('hex') }
}
