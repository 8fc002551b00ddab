import type { FastifyReply } from 'fastify'
import { ValidationError } from '@argmax/errors'
import { outputNames, type InferCall, type WireInput } from '../serving/infer-call.ts'
import { decodeJsonData, encodeJsonTensor } from '../tensors/json-codec.ts'
import { decodeRaw, encodeRaw } from '../tensors/raw-codec.ts'
import { inputError } from '../tensors/tensor-errors.ts'
import type { Tensor } from '../tensors/tensor.ts'
import { INFERENCE_HEADER_CONTENT_LENGTH } from './v2-rest-body.ts'

/**
 * The REST form of a v2 inference request and answer, for the model server and the gateway:
 * JSON tensors, and Triton's binary tensor data extension. An input whose parameters give
 * `binary_data_size` has no `data`: its bytes follow the JSON (see v2-rest-body.ts), in input
 * order, in the raw form gRPC's `raw_input_contents` uses. An output is answered the same way
 * when the request asks: `binary_data: true` on that output, or `binary_data_output: true` on
 * the request for every output that does not say otherwise (tritonclient's default).
 */

export interface ModelParams {
  name: string
  version?: string
}

export interface JsonInferBody {
  id?: string
  parameters?: { binary_data_output?: boolean } & Record<string, unknown>
  inputs: {
    name: string
    shape: number[]
    datatype: string
    parameters?: { binary_data_size?: number } & Record<string, unknown>
    data?: unknown
  }[]
  outputs?: { name: string; parameters?: { binary_data?: boolean } & Record<string, unknown> }[]
}

export const modelParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1 }, version: { type: 'string' } },
} as const

export const inferBody = {
  type: 'object',
  required: ['inputs'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    parameters: {
      type: 'object',
      properties: { binary_data_output: { type: 'boolean' } },
    },
    inputs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'shape', 'datatype'],
        additionalProperties: false,
        properties: {
          name: { type: 'string' },
          shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
          datatype: { type: 'string' },
          parameters: {
            type: 'object',
            properties: { binary_data_size: { type: 'integer', minimum: 0 } },
          },
          data: {},
        },
      },
    },
    outputs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: {
          name: { type: 'string' },
          parameters: { type: 'object', properties: { binary_data: { type: 'boolean' } } },
        },
      },
    },
  },
} as const

/**
 * A REST request as a transport-free call. `binary` is the body after the JSON; each input that
 * declares `binary_data_size` takes its bytes from it, in order, and nothing may be left over.
 */
export function callFromRest(params: ModelParams, body: JsonInferBody, binary: Buffer): InferCall {
  let offset = 0
  const inputs = body.inputs.map((input) => {
    const size = input.parameters?.binary_data_size
    if (size === undefined) {
      if (input.data === undefined) {
        throw inputError(input.name, 'needs data, or parameters.binary_data_size and binary data')
      }
      return wireInput(input, (datatype, count) =>
        decodeJsonData(input.name, datatype, count, input.data),
      )
    }
    if (input.data !== undefined) {
      throw inputError(input.name, 'has both data and parameters.binary_data_size; send one')
    }
    const bytes = binary.subarray(offset, offset + size)
    if (bytes.byteLength < size) {
      throw inputError(
        input.name,
        binary.byteLength === 0
          ? `declares binary_data_size ${size} but the request has no binary data ` +
              `(its JSON length goes in the ${INFERENCE_HEADER_CONTENT_LENGTH} header)`
          : `declares binary_data_size ${size} but only ${bytes.byteLength} bytes of binary data remain`,
      )
    }
    offset += size
    return wireInput(input, (datatype, count) => decodeRaw(input.name, datatype, count, bytes))
  })
  if (offset !== binary.byteLength) {
    throw ValidationError.field(
      'body',
      `holds ${binary.byteLength - offset} bytes of binary data beyond what the inputs' ` +
        `binary_data_size declare (${offset})`,
    )
  }
  return {
    modelName: params.name,
    modelVersion: params.version ?? '',
    id: body.id ?? '',
    inputs,
    outputs: outputNames(body.outputs ?? []),
  }
}

function wireInput(input: JsonInferBody['inputs'][number], values: WireInput['values']): WireInput {
  return { name: input.name, datatype: input.datatype, shape: input.shape, values }
}

/**
 * Sends an inference answer: `head` (model, version, id, parameters) and the outputs, as JSON,
 * or as JSON followed by the binary outputs when the request asked for any.
 */
export function sendInferAnswer(
  reply: FastifyReply,
  request: JsonInferBody,
  head: Record<string, unknown>,
  outputs: readonly Tensor[],
) {
  const asBinary = binaryOutputChoice(request)
  if (!outputs.some((output) => asBinary(output.name))) {
    return reply.send({ ...head, outputs: outputs.map(encodeJsonTensor) })
  }
  const blobs: Buffer[] = []
  const described = outputs.map((output) => {
    if (!asBinary(output.name)) return encodeJsonTensor(output)
    const bytes = encodeRaw(output.data)
    blobs.push(bytes)
    const { name, datatype, shape } = output
    return { name, datatype, shape, parameters: { binary_data_size: bytes.byteLength } }
  })
  const json = Buffer.from(JSON.stringify({ ...head, outputs: described }))
  return reply
    .type('application/octet-stream')
    .header(INFERENCE_HEADER_CONTENT_LENGTH, json.byteLength)
    .send(Buffer.concat([json, ...blobs]))
}

function binaryOutputChoice(request: JsonInferBody): (name: string) => boolean {
  const everyOutput = request.parameters?.binary_data_output === true
  const own = new Map(
    (request.outputs ?? []).map((output) => [output.name, output.parameters?.binary_data]),
  )
  return (name) => own.get(name) ?? everyOutput
}
