import type { TensorDatatype } from '@argmax/contracts'
import { ValidationError } from '@argmax/errors'
import type { Tensor, TensorData } from '../tensors/tensor.ts'

/**
 * A v2 input as it arrives, whatever the transport: its declared name, datatype and shape, and
 * a way to decode its values once those are known to fit the model (raw bytes, typed contents
 * or JSON). Decoding waits for the checks so a malformed tensor is named, not half-read.
 */
export interface WireInput {
  name: string
  datatype: string
  /** Dimensions as sent; 64-bit integers arrive as decimal strings over gRPC. */
  shape: readonly (string | number)[]
  values(datatype: TensorDatatype, count: number): TensorData
}

/** One inference request, transport-free. */
export interface InferCall {
  modelName: string
  /** '' picks the highest version that is ready. */
  modelVersion: string
  id: string
  inputs: WireInput[]
  /** Outputs asked for, by name; empty means every output of the signature. */
  outputs: string[]
}

export interface InferResult {
  modelName: string
  modelVersion: string
  id: string
  outputs: Tensor[]
}

/**
 * The outputs a request asks for, by name. An output asking for Triton's classification
 * extension (its `classification` parameter: the top classes as labels) is refused by name
 * rather than answered in a shape it did not ask for: this server does not serve it.
 */
export function outputNames(
  outputs: readonly { name: string; parameters?: Record<string, unknown> | null }[],
): string[] {
  return outputs.map((output) => {
    if (output.parameters?.['classification'] !== undefined) {
      throw ValidationError.field(
        `outputs/${output.name}`,
        "asks for classification (Triton's classification extension), which is not served; ask for the output itself",
      )
    }
    return output.name
  })
}
