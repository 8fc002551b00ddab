import { createHash } from 'node:crypto'
import type { Principal } from '@argmax/auth'
import { s3Uri, type StoredObject } from '@argmax/contracts'
import { IllegalStateError, PayloadTooLargeError, ValidationError } from '@argmax/errors'
import { handleCommand, identifyCreate, loadAggregate } from '@argmax/events'
import { presignPutObject, putObject } from '@argmax/storage'
import {
  MAX_INLINE_PARAMS_BYTES,
  decideUpload,
  signatureIssues,
  signatureObjectKey,
  throwIssues,
  uploadDecider,
  uploadObjectKey,
  type ExistingUpload,
  type UploadCommand,
} from '../domain/index.ts'
import { cacheSignature } from '../projections/signature-cache.ts'
import { uploadSubject } from '../streams.ts'
import type { StartUploadInput } from '../api/contract.ts'
import type { RegistryDeps } from './dependencies.ts'
import { changeableModel } from './model-access.ts'

type Deps = Pick<
  RegistryDeps,
  | 'store'
  | 'names'
  | 'db'
  | 's3'
  | 'bucket'
  | 'now'
  | 'newId'
  | 'presignExpirySeconds'
  | 'maxModelBytes'
>

/**
 * Starts a manual registration: the declared signature is checked and stored (content-addressed,
 * so storing it again is harmless), the upload recorded, and a presigned PUT for `model.onnx`
 * handed out, signed for exactly the declared size. Under an `Idempotency-Key` a retry answers
 * the same upload with a fresh URL.
 */
export async function startUpload(
  deps: Deps,
  principal: Principal,
  model: string,
  input: StartUploadInput,
  idempotencyKey?: string,
): Promise<{ upload: ExistingUpload; position: number; url: string }> {
  const loaded = await changeableModel(deps, principal, model)
  if (loaded.state.status === 'deleted') {
    // The decider says the same on registration; saying it now saves the upload.
    throw new IllegalStateError(`model ${model} is deleted: restore it first`)
  }
  if (input.size > deps.maxModelBytes) {
    throw new PayloadTooLargeError('size', deps.maxModelBytes, input.size)
  }
  throwIssues(signatureIssues(input.signature))
  if (input.params !== undefined && JSON.stringify(input.params).length > MAX_INLINE_PARAMS_BYTES) {
    throw ValidationError.field(
      'params',
      `must be at most ${MAX_INLINE_PARAMS_BYTES} bytes of JSON`,
    )
  }
  const { id: uploadId, requestHash } = identifyCreate({
    key: idempotencyKey,
    caller: principal.subject,
    scope: `registry.${model}.upload`,
    request: input,
    newId: deps.newId,
  })
  const subject = uploadSubject(deps.names, uploadId)
  const objectKey = uploadObjectKey(model, uploadId)
  const signatureJson = JSON.stringify(input.signature)
  const signatureSha = createHash('sha256').update(signatureJson).digest('hex')
  const signature: StoredObject = {
    uri: s3Uri(deps.bucket, signatureObjectKey(model, signatureSha)),
    sha256: signatureSha,
    size: Buffer.byteLength(signatureJson),
  }
  const command: UploadCommand = {
    type: 'StartUpload',
    data: {
      uploadId,
      model,
      ownerId: principal.subject,
      bucket: deps.bucket,
      objectKey,
      size: input.size,
      ...(input.sha256 !== undefined ? { sha256: input.sha256.toLowerCase() } : {}),
      signature,
      task: input.signature.task,
      metrics: input.metrics ?? {},
      ...(input.params !== undefined ? { params: input.params } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      now: deps.now(),
      ...(requestHash !== undefined ? { requestHash } : {}),
    },
  }
  if (requestHash !== undefined) {
    // Deciding on what exists: nothing to store for a repeat, a 422 for another request.
    const existing = await loadAggregate(deps.store, uploadDecider, subject)
    if (existing.state.status !== 'absent' && decideUpload(command, existing.state).length === 0) {
      return {
        upload: existing.state,
        position: existing.position,
        url: await presign(deps, existing.state),
      }
    }
  }
  await putObject(deps.s3, {
    bucket: deps.bucket,
    key: signatureObjectKey(model, signatureSha),
    body: signatureJson,
    contentType: 'application/json',
  })
  await cacheSignature(deps.db, signatureSha, input.signature, deps.now())
  const outcome = await handleCommand(deps.store, uploadDecider, subject, command, {
    actor: principal,
  })
  const upload = outcome.state as ExistingUpload
  return { upload, position: outcome.position, url: await presign(deps, upload) }
}

function presign(deps: Pick<Deps, 's3' | 'presignExpirySeconds'>, upload: ExistingUpload) {
  return presignPutObject(deps.s3, {
    bucket: upload.bucket,
    key: upload.objectKey,
    expiresInSeconds: deps.presignExpirySeconds,
    contentLength: upload.size,
  })
}
