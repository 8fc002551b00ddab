import { createHash } from 'node:crypto'
import { parseS3Uri, type ModelSignature, type StoredObject } from '@argmax/contracts'
import { NotFoundError } from '@argmax/errors'
import { ObjectTooLargeError, readObjectBytes } from '@argmax/storage'
import { MAX_SIGNATURE_BYTES, parseSignatureJson } from '../domain/index.ts'
import { cacheSignature, cachedSignature } from '../projections/signature-cache.ts'
import type { RegistryDeps } from './dependencies.ts'
import { loadModel } from './model-access.ts'

/** A signature that storage does not have, or that is not what its reference says. */
export class SignatureUnreadableError extends Error {
  constructor(
    readonly ref: StoredObject,
    reason: string,
  ) {
    super(`the signature ${ref.uri} cannot be used: ${reason}`)
    this.name = 'SignatureUnreadableError'
  }
}

/**
 * A version's signature by its reference: from the cache by SHA-256, else read from storage,
 * checked against the reference's SHA-256 and size, parsed, and cached. Storage failures
 * propagate (503, or a consumer's retry); a missing, altered or malformed object is a
 * SignatureUnreadableError, which retrying cannot fix.
 */
export async function loadSignature(
  deps: Pick<RegistryDeps, 'db' | 's3' | 'now'>,
  ref: StoredObject,
): Promise<ModelSignature> {
  const cached = await cachedSignature(deps.db, ref.sha256)
  if (cached) return cached
  const location = parseS3Uri(ref.uri)
  if (!location) throw new SignatureUnreadableError(ref, 'not an s3:// URI')
  let bytes: Buffer | undefined
  try {
    bytes = await readObjectBytes(deps.s3, { ...location, maxBytes: MAX_SIGNATURE_BYTES })
  } catch (error) {
    if (error instanceof ObjectTooLargeError) {
      throw new SignatureUnreadableError(ref, `larger than ${MAX_SIGNATURE_BYTES} bytes`)
    }
    throw error
  }
  if (!bytes) throw new SignatureUnreadableError(ref, 'it is not in storage')
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  if (sha256 !== ref.sha256) {
    throw new SignatureUnreadableError(ref, `its SHA-256 is ${sha256}, not ${ref.sha256}`)
  }
  const parsed = parseSignatureJson(bytes.toString('utf8'))
  if (!parsed.ok) throw new SignatureUnreadableError(ref, parsed.message)
  await cacheSignature(deps.db, ref.sha256, parsed.signature, deps.now())
  return parsed.signature
}

/** The signature of one version of a model, from the model's events (a rollout's quality). */
export async function versionSignature(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'db' | 's3' | 'now'>,
  model: string,
  version: number,
): Promise<ModelSignature> {
  const { state } = await loadModel(deps, model)
  const record = state.versions[version]
  if (!record || record.status === 'purged')
    throw new NotFoundError('version', `${model}/${version}`)
  return loadSignature(deps, record.signature)
}
