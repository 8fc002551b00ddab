import { ONNX_TYPE_OF, TENSOR_DATATYPES, type TensorDatatype } from '@argmax/contracts'
import type { TensorData } from './tensor.ts'

export type NumericArrayConstructor =
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor

export type FixedDatatype = Exclude<TensorDatatype, 'BYTES'>

/** The array each fixed-size v2 datatype is held in; its BYTES_PER_ELEMENT is the wire size. */
export const ARRAY_OF: Record<FixedDatatype, NumericArrayConstructor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
}

export function isDatatype(value: string): value is TensorDatatype {
  return (TENSOR_DATATYPES as readonly string[]).includes(value)
}

export function isFloating(datatype: TensorDatatype): boolean {
  return datatype === 'FP16' || datatype === 'FP32' || datatype === 'FP64'
}

export function is64Bit(datatype: TensorDatatype): datatype is 'INT64' | 'UINT64' {
  return datatype === 'INT64' || datatype === 'UINT64'
}

/** An empty array of the datatype's kind with room for `count` elements. */
export function allocate(datatype: TensorDatatype, count: number): TensorData {
  if (datatype === 'BYTES') return new Array<string>(count)
  return new ARRAY_OF[datatype](count)
}

const DATATYPE_OF_ORT = new Map<string, TensorDatatype>(
  Object.entries(ONNX_TYPE_OF).map(([datatype, ort]) => [ort, datatype as TensorDatatype]),
)

/** The v2 datatype of an ONNX Runtime tensor type, or undefined for one v2 cannot carry. */
export function datatypeOfOrtType(type: string): TensorDatatype | undefined {
  return DATATYPE_OF_ORT.get(type)
}
