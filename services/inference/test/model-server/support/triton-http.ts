/**
 * The REST bodies of Triton's binary tensor data extension, built and read the way
 * tritonclient.http does (its `_get_inference_request` and `InferResult`), for tests of the
 * servers that must take them: tritonclient is not packaged for Debian.
 */

export interface BinaryInput {
  name: string
  datatype: string
  shape: number[]
  bytes: Buffer
}

export interface TritonRequestOptions {
  id?: string
  /** Outputs asked for; with none, tritonclient asks for every output as binary data. */
  outputs?: { name: string; parameters?: Record<string, unknown> }[]
}

/**
 * The body and headers tritonclient sends for inputs set with `binary_data=True` (its
 * default): the JSON request, then each input's bytes; no Content-Type.
 */
export function tritonRequest(inputs: BinaryInput[], options: TritonRequestOptions = {}) {
  const request = {
    ...(options.id ? { id: options.id } : {}),
    inputs: inputs.map(({ name, shape, datatype, bytes }) => ({
      name,
      shape,
      datatype,
      parameters: { binary_data_size: bytes.byteLength },
    })),
    ...(options.outputs
      ? { outputs: options.outputs }
      : { parameters: { binary_data_output: true } }),
  }
  const json = Buffer.from(JSON.stringify(request))
  return {
    body: Buffer.concat([json, ...inputs.map((input) => input.bytes)]),
    headers: { 'inference-header-content-length': String(json.byteLength) },
  }
}

export interface TritonAnswer {
  json: {
    outputs: {
      name: string
      datatype: string
      shape: number[]
      data?: unknown[]
      parameters?: { binary_data_size?: number }
    }[]
  } & Record<string, unknown>
  /** Each binary output's bytes, by name. */
  binary: Map<string, Buffer>
}

/** Reads an answer as tritonclient's InferResult does: JSON, then binary outputs in order. */
export function readTritonAnswer(body: Buffer, headerLength: string | null): TritonAnswer {
  if (headerLength === null) return { json: JSON.parse(body.toString('utf8')), binary: new Map() }
  const length = Number(headerLength)
  const json = JSON.parse(body.subarray(0, length).toString('utf8')) as TritonAnswer['json']
  const binary = new Map<string, Buffer>()
  let offset = length
  for (const output of json.outputs) {
    const size = output.parameters?.binary_data_size
    if (size === undefined) continue
    binary.set(output.name, body.subarray(offset, offset + size))
    offset += size
  }
  if (offset !== body.byteLength) throw new Error(`${body.byteLength - offset} bytes left over`)
  return { json, binary }
}
