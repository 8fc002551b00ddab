import { promisify } from 'node:util'
import { gunzip, inflate } from 'node:zlib'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ValidationError } from '@argmax/errors'
import { httpProblem } from '@argmax/http/problems'

/**
 * The body of a v2 REST inference request, as Triton's HTTP endpoint reads it: the JSON request,
 * then, when the `Inference-Header-Content-Length` header gives the JSON's length, the binary
 * tensor data of the inputs that declare `binary_data_size` (Triton's binary tensor data
 * extension, what tritonclient.http sends by default).
 *
 * The header, not the content type, decides: tritonclient sends no Content-Type at all, and
 * other clients send application/json or application/octet-stream. A body compressed with
 * `Content-Encoding: gzip` or `deflate` (tritonclient's `request_compression_algorithm`) is
 * inflated first, to no more than the body limit.
 */

export const INFERENCE_HEADER_CONTENT_LENGTH = 'inference-header-content-length'

/** The binary part of each request that has one, for the route that validated its JSON. */
const binaryParts = new WeakMap<FastifyRequest, Buffer>()

/** The bytes after the JSON request: empty when the request has no binary part. */
export function binaryPartOf(request: FastifyRequest): Buffer {
  return binaryParts.get(request) ?? EMPTY
}

const EMPTY = Buffer.alloc(0)
const inflaters = { gzip: promisify(gunzip), deflate: promisify(inflate) }

/**
 * Replaces the scope's body parsers with the v2 reader, for every content type and for none:
 * Triton's clients post without a Content-Type (inference, and the repository extension's
 * index, load and unload). Register it inside the plugin that holds the v2 POST routes.
 */
export function acceptV2Bodies(app: FastifyInstance, bodyLimit: number): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  const read = async (request: FastifyRequest, received: Buffer) => {
    const body = await decoded(request, received, bodyLimit)
    const jsonLength = declaredJsonLength(request, body.byteLength)
    const json = jsonLength === undefined ? body : body.subarray(0, jsonLength)
    if (jsonLength !== undefined) binaryParts.set(request, body.subarray(jsonLength))
    return new Promise<unknown>((resolve, reject) =>
      // The default parser takes a Buffer too (secure-json-parse reads either). Its messages
      // speak of application/json, which this request may not have said.
      parseJson(request, json as unknown as string, (error, parsed) =>
        error ? reject(notJson(json, jsonLength)) : resolve(parsed),
      ),
    )
  }
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request: FastifyRequest, body: Buffer) =>
    read(request, body),
  )
}

async function decoded(request: FastifyRequest, body: Buffer, bodyLimit: number) {
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
  if (encoding === 'identity') return body
  if (encoding !== 'gzip' && encoding !== 'deflate') {
    throw httpProblem(
      415,
      `Content-Encoding ${encoding} is not supported; send gzip, deflate or identity`,
      request.url,
    )
  }
  try {
    return await inflaters[encoding](body, { maxOutputLength: bodyLimit })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      const detail = `the ${encoding} body inflates past the limit of ${bodyLimit} bytes`
      throw httpProblem(413, detail, request.url)
    }
    throw ValidationError.field('body', `is not valid ${encoding} data`)
  }
}

function notJson(json: Buffer, declaredLength: number | undefined): ValidationError {
  if (json.byteLength === 0) return ValidationError.field('body', 'is empty; send a JSON request')
  return declaredLength === undefined
    ? ValidationError.field('body', 'is not valid JSON')
    : ValidationError.field(
        'body',
        `its first ${declaredLength} bytes (${INFERENCE_HEADER_CONTENT_LENGTH}) are not valid JSON`,
      )
}

function declaredJsonLength(request: FastifyRequest, bodyLength: number): number | undefined {
  const header = request.headers[INFERENCE_HEADER_CONTENT_LENGTH]
  if (header === undefined) return undefined
  const value = Array.isArray(header) ? header.join(',') : header.trim()
  const length = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN
  if (!(length > 0 && length <= bodyLength)) {
    throw ValidationError.field(
      `header/${INFERENCE_HEADER_CONTENT_LENGTH}`,
      `is ${JSON.stringify(value)}; it must give the length of the JSON request in bytes, ` +
        `from 1 to the body's ${bodyLength}`,
    )
  }
  return length
}
