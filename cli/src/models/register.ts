import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { ModelSignature } from '@argmax/contracts'
import { ApiError, type RegistryClient, type VersionView } from '@argmax/registry-service/client'
import { sha256OfFile } from '@argmax/storage/hashing'

export interface RegisterOptions {
  api: RegistryClient
  model: string
  /** The ONNX file. */
  filePath: string
  /** Its `ModelSignature` (a trainer's `schema.json`). */
  signaturePath: string
  metrics?: Record<string, number>
  description?: string
  /** Create the model (owned by the caller) when it does not exist. */
  create?: boolean
  fetch?: typeof fetch
}

/**
 * Registers an ONNX file by hand, the registry's upload protocol from the client's side: start
 * (declare the signature, size and SHA-256) → PUT the file to the presigned URL → complete (the
 * registry checks it in ONNX Runtime against the signature and registers the next version).
 */
export async function registerOnnxFile(options: RegisterOptions): Promise<VersionView> {
  const { api, model } = options
  const signature = JSON.parse(await readFile(options.signaturePath, 'utf8')) as ModelSignature
  const { size } = await stat(options.filePath)
  const sha256 = await sha256OfFile(options.filePath)
  if (options.create) await ensureModel(api, model, signature.task)
  const started = await api.startUpload({
    params: { name: model },
    body: {
      signature,
      size,
      sha256,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.description ? { description: options.description } : {}),
    },
  })
  const body = Readable.toWeb(createReadStream(options.filePath)) as ReadableStream<Uint8Array>
  const put = await (options.fetch ?? fetch)(started.url, {
    method: 'PUT',
    body,
    headers: { 'content-length': String(size) },
    duplex: 'half',
  } as RequestInit)
  if (!put.ok) {
    throw new Error(
      `storage refused the upload of ${options.filePath}: ${put.status} ${await put.text()}`,
    )
  }
  const done = await api.completeUpload({
    params: { name: model, uploadId: started.upload.uploadId },
  })
  return done.version
}

async function ensureModel(api: RegistryClient, model: string, task: ModelSignature['task']) {
  try {
    await api.getModel({ params: { name: model } })
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error
    await api.createModel({ body: { name: model, task } })
  }
}

/**
 * `rmse=0.91,r2=0.45`, a JSON object of name → number, or a file holding one (a trainer's
 * `metrics.json` gives its `test` metrics).
 */
export async function parseMetrics(value: string): Promise<Record<string, number>> {
  if (!value.trim().startsWith('{') && value.includes('=')) {
    const metrics: Record<string, number> = {}
    for (const pair of value.split(',')) {
      const [name, number] = pair.split('=')
      const parsed = Number(number)
      if (
        !name?.trim() ||
        number === undefined ||
        number.trim() === '' ||
        !Number.isFinite(parsed)
      ) {
        throw new Error(`--metrics: '${pair}' is not name=number`)
      }
      metrics[name.trim()] = parsed
    }
    return metrics
  }
  const text = value.trim().startsWith('{') ? value : await readFile(value, 'utf8')
  const parsed = JSON.parse(text) as Record<string, unknown>
  const source =
    typeof parsed['test'] === 'object' && parsed['test'] !== null
      ? (parsed['test'] as Record<string, unknown>)
      : parsed
  return Object.fromEntries(
    Object.entries(source).filter(
      (entry): entry is [string, number] =>
        typeof entry[1] === 'number' && Number.isFinite(entry[1]),
    ),
  )
}
