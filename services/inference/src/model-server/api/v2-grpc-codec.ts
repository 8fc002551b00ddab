import { ValidationError } from '@argmax/errors'
import { decodeRaw, encodeRaw } from '../tensors/raw-codec.ts'
import {
  CONTENTS_FIELD_OF,
  decodeContents,
  encodeContents,
  type TensorContents,
} from '../tensors/typed-contents-codec.ts'
import { inputError } from '../tensors/tensor-errors.ts'
import {
  outputNames,
  type InferCall,
  type InferResult,
  type WireInput,
} from '../serving/infer-call.ts'

/** `ModelInferRequest` as `@argmax/proto` decodes it (defaults filled, int64 as strings). */
export interface GrpcInferRequest {
  model_name: string
  model_version: string
  id: string
  inputs: {
    name: string
    datatype: string
    shape: (string | number)[]
    contents?: TensorContents | null
  }[]
  outputs: { name: string; parameters?: Record<string, unknown> }[]
  raw_input_contents: Uint8Array[]
}

export interface GrpcInferResponse {
  model_name: string
  model_version: string
  id: string
  outputs: {
    name: string
    datatype: string
    shape: number[]
    contents?: TensorContents
  }[]
  raw_output_contents: Buffer[]
}

function hasContents(contents: TensorContents | null | undefined): boolean {
  if (!contents) return false
  return Object.values(contents).some((values) => Array.isArray(values) && values.length > 0)
}

/**
 * A gRPC ModelInfer request as a transport-free call. With `raw_input_contents`, tensor i's
 * bytes are entry i (as tritonclient sends them) and no input may also carry typed contents.
 */
export function callFromGrpc(request: GrpcInferRequest): { call: InferCall; raw: boolean } {
  const raw = request.raw_input_contents ?? []
  const useRaw = raw.length > 0
  if (useRaw && raw.length !== request.inputs.length) {
    throw ValidationError.field(
      'raw_input_contents',
      `holds ${raw.length} tensors for ${request.inputs.length} inputs; send one per input, in order`,
    )
  }
  const inputs: WireInput[] = request.inputs.map((input, i) => {
    if (useRaw && hasContents(input.contents)) {
      throw inputError(
        input.name,
        'has typed contents while the request uses raw_input_contents; send one form for all inputs',
      )
    }
    return {
      name: input.name,
      datatype: input.datatype,
      shape: input.shape,
      values: (datatype, count) =>
        useRaw
          ? decodeRaw(input.name, datatype, count, raw[i]!)
          : decodeContents(input.name, datatype, count, input.contents ?? {}),
    }
  })
  return {
    call: {
      modelName: request.model_name,
      modelVersion: request.model_version,
      id: request.id,
      inputs,
      outputs: outputNames(request.outputs),
    },
    raw: useRaw,
  }
}

/**
 * The answer in the form the request used: raw_output_contents when it sent raw inputs (what
 * tritonclient reads) or when an output has no typed form (FP16); typed contents otherwise.
 */
export function grpcFromResult(result: InferResult, raw: boolean): GrpcInferResponse {
  const useRaw =
    raw || result.outputs.some((output) => CONTENTS_FIELD_OF[output.datatype] === undefined)
  return {
    model_name: result.modelName,
    model_version: result.modelVersion,
    id: result.id,
    outputs: result.outputs.map((output) => ({
      name: output.name,
      datatype: output.datatype,
      shape: output.shape,
      ...(useRaw ? {} : { contents: encodeContents(output.datatype, output.data) }),
    })),
    raw_output_contents: useRaw ? result.outputs.map((output) => encodeRaw(output.data)) : [],
  }
}
