import { createHash } from 'node:crypto'
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { parseS3Uri, type ModelSignature, type StoredObject } from '@argmax/contracts'
import { UnavailableError, asArgmaxError } from '@argmax/errors'
import { modelSignatureSchema } from '../model-server/repository/model-signature.schema.ts'

/** A schema.json larger than this is refused: signatures are a few KiB even for wide tables. */
const MAX_SIGNATURE_BYTES = 4 * 1024 * 1024

export interface SignatureStore {
  /** The signature a version's `schema.json` holds, read once per SHA-256 and kept. */
  get(object: StoredObject): Promise<ModelSignature>
}

/**
 * Version signatures, read from the `schema.json` object the registry's
 * `ModelVersionRegistered` references (events carry references, never the bytes), checked
 * against its SHA-256 and the contract's schema, and kept by SHA-256: versions are immutable,
 * so a signature is read once per process. Concurrent reads of one object share the request; a
 * failed read is not remembered (the next request tries again).
 */
export function createSignatureStore(s3: S3Client, maxEntries = 10_000): SignatureStore {
  const cache = new Map<string, Promise<ModelSignature>>()
  const read = async (object: StoredObject): Promise<ModelSignature> => {
    const location = parseS3Uri(object.uri)
    if (!location) throw new Error(`signature ${object.uri} is not an s3:// URI`)
    if (object.size > MAX_SIGNATURE_BYTES) {
      throw new Error(
        `signature ${object.uri} is ${object.size} bytes; the limit is ${MAX_SIGNATURE_BYTES}`,
      )
    }
    let bytes: Uint8Array
    try {
      const answer = await s3.send(
        new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
      )
      bytes = await answer.Body!.transformToByteArray()
    } catch (error) {
      const translated = asArgmaxError(error)
      if (translated instanceof UnavailableError) throw translated
      throw new Error(`reading signature ${object.uri}: ${(error as Error).message}`, {
        cause: error,
      })
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    if (sha256 !== object.sha256) {
      throw new Error(`signature ${object.uri} has SHA-256 ${sha256}, not ${object.sha256}`)
    }
    const parsed = modelSignatureSchema.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8')))
    if (!parsed.success) {
      throw new Error(
        `signature ${object.uri} is not a ModelSignature: ${parsed.error.issues
          .map((issue) => `${issue.path.join('/')}: ${issue.message}`)
          .join('; ')}`,
      )
    }
    return parsed.data
  }
  return {
    get(object) {
      const hit = cache.get(object.sha256)
      if (hit) return hit
      const loading = read(object)
      cache.set(object.sha256, loading)
      loading.catch(() => cache.delete(object.sha256))
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value!)
      return loading
    },
  }
}
