import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Principal } from '@argmax/auth'
import { s3Uri } from '@argmax/contracts'
import {
  IllegalStateError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from '@argmax/errors'
import { handleCommand, loadAggregate } from '@argmax/events'
import { deletePrefix, headObject, openObjectStream, pipeHashed } from '@argmax/storage'
import {
  modelDecider,
  uploadDecider,
  uploadPrefix,
  type ExistingUpload,
  type VersionRegistration,
} from '../domain/index.ts'
import { modelSubject, uploadSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'
import { assertModelAccess, changeableModel, readableModel } from './model-access.ts'
import { checkOnnxFile } from './onnx-check.ts'
import { loadSignature, SignatureUnreadableError } from './signatures.ts'

type Deps = Pick<
  RegistryDeps,
  'store' | 'names' | 'db' | 's3' | 'now' | 'maxModelBytes' | 'verifyLimiter'
>

/** The upload named in the path, if it belongs to that model and the caller may change it. */
export async function accessibleUpload(
  deps: Pick<RegistryDeps, 'store' | 'names'>,
  principal: Principal,
  model: string,
  uploadId: string,
  access: 'read' | 'write',
): Promise<{ upload: ExistingUpload; position: number }> {
  const { state, position } = await loadAggregate(
    deps.store,
    uploadDecider,
    uploadSubject(deps.names, uploadId),
  )
  if (state.status === 'absent' || state.model !== model)
    throw new NotFoundError('upload', uploadId)
  if (access === 'write') await changeableModel(deps, principal, model)
  else await readableModel(deps, principal, model)
  return { upload: state, position }
}

/**
 * Completes a manual registration: the uploaded file is checked — it is there, of the declared
 * size and SHA-256, loads in ONNX Runtime, and its graph takes and gives what the declared
 * signature says (a 400 naming the input or output otherwise, and nothing is registered) — then
 * registered as the model's next version, once per upload (keyed on the model's aggregate like
 * a run), and the upload marked complete. A retry after success answers the same version.
 */
export async function completeUpload(
  deps: Deps,
  principal: Principal,
  model: string,
  uploadId: string,
): Promise<{ version: number; position: number }> {
  const { upload } = await accessibleUpload(deps, principal, model, uploadId, 'write')
  if (upload.status === 'ABORTED') {
    throw new IllegalStateError(`upload ${uploadId} was aborted: start a new one`)
  }
  const key = `upload:${uploadId}`
  const { state: modelState } = await changeableModel(deps, principal, model)
  let version = modelState.sources[key]
  let position = 0
  let checked: { sha256: string; size: number } | undefined
  if (typeof version !== 'number') {
    checked = await deps.verifyLimiter.run(() => checkUploadedFile(deps, upload))
    const registration: VersionRegistration = {
      task: upload.task,
      artifact: { uri: s3Uri(upload.bucket, upload.objectKey), ...checked },
      signature: upload.signature,
      artifacts: {
        model: { uri: s3Uri(upload.bucket, upload.objectKey), ...checked },
        signature: upload.signature,
      },
      metrics: upload.metrics,
      source: { kind: 'upload', uploadId },
      lineage: {},
      ...(upload.params !== undefined ? { params: upload.params } : {}),
      ...(upload.description !== undefined ? { description: upload.description } : {}),
    }
    const registered = await handleCommand(
      deps.store,
      modelDecider,
      modelSubject(deps.names, model),
      { type: 'RegisterUploadedVersion', data: { model, uploadId, registration, now: deps.now() } },
      { actor: principal, guard: (state) => assertModelAccess(state, principal, model, 'write') },
    )
    version = registered.state.sources[key]
    position = registered.position
    if (typeof version !== 'number') throw new Error(`upload ${uploadId} registered no version`)
  }
  const artifact = modelState.versions[version]?.artifact
  const completed = await handleCommand(
    deps.store,
    uploadDecider,
    uploadSubject(deps.names, uploadId),
    {
      type: 'CompleteUpload',
      data: {
        uploadId,
        version,
        sha256: checked?.sha256 ?? artifact?.sha256 ?? '',
        size: checked?.size ?? artifact?.size ?? upload.size,
        now: deps.now(),
      },
    },
    { actor: principal },
  )
  return { version, position: Math.max(position, completed.position) }
}

/** Every check of the uploaded bytes; what they are when they pass. */
async function checkUploadedFile(
  deps: Deps,
  upload: ExistingUpload,
): Promise<{ sha256: string; size: number }> {
  const ref = { bucket: upload.bucket, key: upload.objectKey }
  const head = await headObject(deps.s3, ref)
  if (!head) {
    throw ValidationError.field(
      'file',
      'nothing was uploaded: PUT model.onnx to the upload URL first',
    )
  }
  if (head.size > deps.maxModelBytes) {
    throw new PayloadTooLargeError('file', deps.maxModelBytes, head.size)
  }
  if (head.size !== upload.size) {
    throw ValidationError.field(
      'file',
      `the uploaded file is ${head.size} bytes, ${upload.size} were declared`,
    )
  }
  let signature
  try {
    signature = await loadSignature(deps, upload.signature)
  } catch (error) {
    if (error instanceof SignatureUnreadableError) throw new IllegalStateError(error.message)
    throw error
  }
  const dir = await mkdtemp(join(tmpdir(), 'argmax-registry-upload-'))
  try {
    const path = join(dir, 'model.onnx')
    const { sha256, size } = await download(deps, ref, path)
    if (size !== upload.size) {
      throw ValidationError.field(
        'file',
        `the uploaded file is ${size} bytes, ${upload.size} were declared`,
      )
    }
    if (upload.sha256 !== undefined && sha256 !== upload.sha256) {
      throw ValidationError.field(
        'file',
        `the uploaded file's SHA-256 is ${sha256}, ${upload.sha256} was declared`,
      )
    }
    await checkOnnxFile(path, signature)
    return { sha256, size }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Streams the object to a file, hashing it; never more than the limit. */
async function download(
  deps: Pick<Deps, 's3' | 'maxModelBytes'>,
  ref: { bucket: string; key: string },
  path: string,
): Promise<{ sha256: string; size: number }> {
  const { body } = await openObjectStream(deps.s3, ref)
  const maxBytes = deps.maxModelBytes
  return pipeHashed(body, createWriteStream(path), {
    maxBytes,
    tooLarge: (size) => new PayloadTooLargeError('file', maxBytes, size),
  })
}

/** Aborts an upload in progress; its file (if any) is deleted. */
export async function abortUpload(
  deps: Pick<RegistryDeps, 'store' | 'names' | 's3' | 'now'>,
  actor: Principal | `system:${string}`,
  upload: ExistingUpload,
  reason: 'client' | 'expired',
): Promise<{ position: number; state: ExistingUpload }> {
  let objectsDeleted = 0
  if (upload.status === 'STARTED') {
    objectsDeleted = await deletePrefix(deps.s3, {
      bucket: upload.bucket,
      prefix: uploadPrefix(upload.model, upload.uploadId),
    })
  }
  const outcome = await handleCommand(
    deps.store,
    uploadDecider,
    uploadSubject(deps.names, upload.uploadId),
    {
      type: 'AbortUpload',
      data: { uploadId: upload.uploadId, reason, objectsDeleted, now: deps.now() },
    },
    { actor },
  )
  return { position: outcome.position, state: outcome.state as ExistingUpload }
}
