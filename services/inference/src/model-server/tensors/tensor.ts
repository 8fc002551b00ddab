import type { TensorDatatype } from '@argmax/contracts'

/**
 * The values of a tensor, flat in row-major order, in the array type its v2 datatype maps to:
 * BOOL as 0/1 bytes, FP16 as its raw 16-bit patterns, INT64/UINT64 as bigint arrays, BYTES as
 * UTF-8 strings (what ONNX Runtime takes for string tensors).
 */
export type TensorData =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | string[]

/** A decoded v2 tensor: what the codecs produce and consume, whatever the wire form. */
export interface Tensor {
  name: string
  datatype: TensorDatatype
  /** Dimensions; the first is the batch (rows) for every batchable tensor. */
  shape: number[]
  data: TensorData
}

/** The number of elements a shape holds. */
export function elementCount(shape: readonly number[]): number {
  let count = 1
  for (const dimension of shape) count *= dimension
  return count
}
