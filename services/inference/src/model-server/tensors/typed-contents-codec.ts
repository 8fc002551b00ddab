import type { TensorDatatype } from '@argmax/contracts'
import { ARRAY_OF } from './datatypes.ts'
import { inputError } from './tensor-errors.ts'
import type { TensorData } from './tensor.ts'

/**
 * The typed form of a v2 tensor, `InferTensorContents`, as `@argmax/proto` decodes it: repeated
 * fields as arrays, 64-bit integers as decimal strings, bytes as Buffers.
 */
export interface TensorContents {
  bool_contents?: boolean[]
  int_contents?: number[]
  int64_contents?: (string | number)[]
  uint_contents?: number[]
  uint64_contents?: (string | number)[]
  fp32_contents?: number[]
  fp64_contents?: number[]
  bytes_contents?: Uint8Array[]
}

export type ContentsField = keyof TensorContents

/** Where each datatype's values travel in InferTensorContents (FP16 has no typed form). */
export const CONTENTS_FIELD_OF: Record<TensorDatatype, ContentsField | undefined> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
}

const RANGE: Partial<Record<TensorDatatype, [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32_768, 32_767],
  UINT8: [0, 255],
  UINT16: [0, 65_535],
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Decodes typed contents holding `count` elements; throws naming the input otherwise. */
export function decodeContents(
  name: string,
  datatype: TensorDatatype,
  count: number,
  contents: TensorContents,
): TensorData {
  const field = CONTENTS_FIELD_OF[datatype]
  if (field === undefined) {
    throw inputError(name, `${datatype} has no typed contents; send it in raw_input_contents`)
  }
  const values = contents[field] ?? []
  if (values.length !== count) {
    const elsewhere = (Object.keys(CONTENTS_FIELD_OF) as TensorDatatype[])
      .map((type) => CONTENTS_FIELD_OF[type])
      .find((other) => other !== undefined && other !== field && (contents[other]?.length ?? 0))
    throw inputError(
      name,
      elsewhere && values.length === 0
        ? `${datatype} values belong in contents.${field}, not contents.${elsewhere}`
        : `contents.${field} holds ${values.length} values; the shape needs ${count}`,
    )
  }
  switch (datatype) {
    case 'BYTES':
      return (values as Uint8Array[]).map((bytes, i) => {
        try {
          return utf8.decode(bytes)
        } catch {
          throw inputError(name, `BYTES element ${i} is not valid UTF-8`)
        }
      })
    case 'BOOL':
      return Uint8Array.from(values as boolean[], (value) => (value ? 1 : 0))
    case 'INT64':
    case 'UINT64': {
      const out = new ARRAY_OF[datatype](count)
      for (let i = 0; i < count; i++) {
        try {
          out[i] = BigInt((values as (string | number)[])[i]!)
        } catch {
          throw inputError(name, `element ${i} is not an integer`)
        }
      }
      return out
    }
    default: {
      const out = new ARRAY_OF[datatype](count)
      const range = RANGE[datatype]
      for (let i = 0; i < count; i++) {
        const value = (values as number[])[i]!
        if (range && (value < range[0] || value > range[1])) {
          throw inputError(name, `element ${i} is ${value}, outside the ${datatype} range`)
        }
        out[i] = value
      }
      return out as TensorData
    }
  }
}

/** Tensor values as typed contents, in the field their datatype travels in. */
export function encodeContents(datatype: TensorDatatype, data: TensorData): TensorContents {
  const field = CONTENTS_FIELD_OF[datatype]
  if (field === undefined) {
    throw new Error(`${datatype} has no typed contents; it can only be answered raw`)
  }
  switch (datatype) {
    case 'BYTES':
      return { bytes_contents: (data as string[]).map((value) => Buffer.from(value, 'utf8')) }
    case 'BOOL':
      return { bool_contents: Array.from(data as Uint8Array, (value) => value !== 0) }
    case 'INT64':
    case 'UINT64':
      return { [field]: Array.from(data as BigInt64Array, (value) => value.toString()) }
    default:
      return { [field]: Array.from(data as Float32Array) }
  }
}
