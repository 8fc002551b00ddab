import type { TensorDatatype } from '@argmax/contracts'
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
