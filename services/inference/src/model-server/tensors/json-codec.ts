import type { TensorDatatype } from '@argmax/contracts'
import { ARRAY_OF, isFloating } from './datatypes.ts'
import { inputError } from './tensor-errors.ts'
import type { Tensor, TensorData } from './tensor.ts'

/**
 * The JSON form of v2 REST tensors: `data` as a flat or nested (row-major) array; numbers for
 * numeric types (64-bit integers also as decimal strings), `true`/`false` for BOOL, strings for
 * BYTES, and `null` for a missing floating-point value (NaN), which JSON cannot spell.
 * Answers write NaN and ±Infinity as `null`, and 64-bit integers past 2^53 as strings.
 */

type JsonValue = unknown

function flatten(data: JsonValue, out: JsonValue[]): void {
  if (Array.isArray(data)) for (const item of data) flatten(item, out)
  else out.push(data)
}

export function decodeJsonData(
  name: string,
  datatype: TensorDatatype,
  count: number,
  data: JsonValue,
): TensorData {
  if (datatype === 'FP16') {
    throw inputError(name, 'FP16 cannot be sent as JSON; use gRPC raw_input_contents')
  }
  const values: JsonValue[] = []
  flatten(data, values)
  if (values.length !== count) {
    throw inputError(name, `data holds ${values.length} values; the shape needs ${count}`)
  }
  const wrong = (i: number, wanted: string) =>
    inputError(name, `element ${i} is ${JSON.stringify(values[i])}; ${datatype} needs ${wanted}`)
  if (datatype === 'BYTES') {
    for (let i = 0; i < count; i++) if (typeof values[i] !== 'string') throw wrong(i, 'a string')
    return values as string[]
  }
  if (datatype === 'BOOL') {
    const out = new Uint8Array(count)
    for (let i = 0; i < count; i++) {
      if (typeof values[i] !== 'boolean') throw wrong(i, 'true or false')
      out[i] = values[i] ? 1 : 0
    }
    return out
  }
  if (datatype === 'INT64' || datatype === 'UINT64') {
    const out = new ARRAY_OF[datatype](count)
    for (let i = 0; i < count; i++) {
      const value = values[i]
      const integral =
        (typeof value === 'number' && Number.isSafeInteger(value)) ||
        (typeof value === 'string' && /^-?\d+$/.test(value))
      if (!integral) throw wrong(i, 'an integer')
      const big = BigInt(value as number | string)
      if (datatype === 'UINT64' && big < 0n) throw wrong(i, 'a non-negative integer')
      out[i] = big
    }
    return out
  }
  const out = new ARRAY_OF[datatype](count)
  const floating = isFloating(datatype)
  const [min, max] = integerRange(datatype)
  for (let i = 0; i < count; i++) {
    const value = values[i]
    if (value === null && floating) {
      out[i] = Number.NaN
    } else if (typeof value !== 'number') {
      throw wrong(i, floating ? 'a number or null' : 'an integer')
    } else if (!floating && (!Number.isInteger(value) || value < min || value > max)) {
      throw wrong(i, `an integer from ${min} to ${max}`)
    } else {
      out[i] = value
    }
  }
  return out as TensorData
}

function integerRange(datatype: TensorDatatype): [number, number] {
  switch (datatype) {
    case 'INT8':
      return [-128, 127]
    case 'INT16':
      return [-32_768, 32_767]
    case 'INT32':
      return [-2_147_483_648, 2_147_483_647]
    case 'UINT8':
      return [0, 255]
    case 'UINT16':
      return [0, 65_535]
    case 'UINT32':
      return [0, 4_294_967_295]
    default:
      return [-Infinity, Infinity]
  }
}

/** An output tensor as a v2 REST answer carries it (the model server's and the gateway's). */
export function encodeJsonTensor(tensor: Tensor) {
  return {
    name: tensor.name,
    datatype: tensor.datatype,
    shape: tensor.shape,
    data: encodeJsonData(tensor.datatype, tensor.data),
  }
}

/** Tensor values as a flat JSON array. */
export function encodeJsonData(datatype: TensorDatatype, data: TensorData): JsonValue[] {
  if (Array.isArray(data)) return data
  if (datatype === 'BOOL') return Array.from(data as Uint8Array, (value) => value !== 0)
  if (datatype === 'INT64' || datatype === 'UINT64') {
    return Array.from(data as BigInt64Array, (value) => {
      const number = Number(value)
      return Number.isSafeInteger(number) ? number : value.toString()
    })
  }
  if (datatype === 'FP16')
    return Array.from(data as Uint16Array, (bits) => finite(halfToFloat(bits)))
  return Array.from(data as Float32Array, finite)
}

function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null
}

/** IEEE 754 half precision bits to a number. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1
  const exponent = (bits >> 10) & 0x1f
  const fraction = bits & 0x3ff
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024)
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Infinity
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024)
}
