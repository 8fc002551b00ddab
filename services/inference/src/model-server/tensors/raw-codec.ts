import type { TensorDatatype } from '@argmax/contracts'
import { ARRAY_OF, type NumericArrayConstructor } from './datatypes.ts'
import { inputError } from './tensor-errors.ts'
import type { TensorData } from './tensor.ts'

/**
 * The binary tensor form of `raw_input_contents` / `raw_output_contents` (and the REST binary
 * extension): fixed-size elements little-endian, row-major; BYTES elements each preceded by
 * their length as a 4-byte little-endian unsigned integer — what tritonclient sends.
 * Assumes a little-endian host (x86-64, arm64), which the model server checks at start-up.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Decodes one raw tensor of `count` elements. The values are copied out of `bytes` (a message
 * buffer may sit at any alignment, and the request must not pin it). Throws a ValidationError
 * naming the input when the byte length does not fit the shape.
 */
export function decodeRaw(
  name: string,
  datatype: TensorDatatype,
  count: number,
  bytes: Uint8Array,
): TensorData {
  if (datatype === 'BYTES') return decodeRawStrings(name, count, bytes)
  const Array = ARRAY_OF[datatype]
  const expected = count * Array.BYTES_PER_ELEMENT
  if (bytes.byteLength !== expected) {
    throw inputError(
      name,
      `raw contents hold ${bytes.byteLength} bytes; ${count} ${datatype} elements need ${expected}`,
    )
  }
  const values = alignedCopy(Array, count, bytes)
  if (datatype === 'BOOL') {
    for (let i = 0; i < count; i++) {
      if (values[i]! > 1)
        throw inputError(name, `element ${i} is ${values[i]}, not a BOOL (0 or 1)`)
    }
  }
  return values
}

/**
 * `bytes` copied into a fresh array of `count` elements. Through Node's buffer pool, whose slices
 * start 8-byte aligned: a request's tensors are a few bytes, and writing through `.buffer` of a
 * small array of its own makes V8 move that array off the heap first (1 µs a tensor against 0.1
 * here, and garbage for the collector to sweep).
 */
function alignedCopy(ArrayOf: NumericArrayConstructor, count: number, bytes: Uint8Array) {
  const copy = Buffer.allocUnsafe(bytes.byteLength)
  // The pool's alignment is Node's habit, not its promise: without it, the array's own buffer.
  if (copy.byteOffset % ArrayOf.BYTES_PER_ELEMENT !== 0) {
    const values = new ArrayOf(count)
    new Uint8Array(values.buffer).set(bytes)
    return values
  }
  copy.set(bytes)
  return new ArrayOf(copy.buffer, copy.byteOffset, count)
}

function decodeRawStrings(name: string, count: number, bytes: Uint8Array): string[] {
  // Every element carries at least its 4-byte length: refuse before allocating for the count.
  if (count * 4 > bytes.byteLength) {
    throw inputError(
      name,
      `raw contents hold ${bytes.byteLength} bytes, too few for ${count} BYTES elements`,
    )
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const values = new Array<string>(count)
  let offset = 0
  for (let i = 0; i < count; i++) {
    if (offset + 4 > bytes.byteLength) {
      throw inputError(name, `raw contents end after ${i} of ${count} BYTES elements`)
    }
    const length = view.getUint32(offset, true)
    offset += 4
    if (offset + length > bytes.byteLength) {
      throw inputError(
        name,
        `BYTES element ${i} declares ${length} bytes but only ${bytes.byteLength - offset} remain`,
      )
    }
    try {
      values[i] = utf8.decode(bytes.subarray(offset, offset + length))
    } catch {
      throw inputError(name, `BYTES element ${i} is not valid UTF-8`)
    }
    offset += length
  }
  if (offset !== bytes.byteLength) {
    throw inputError(
      name,
      `raw contents hold ${bytes.byteLength - offset} bytes beyond its ${count} BYTES elements`,
    )
  }
  return values
}

/** Encodes tensor values as raw bytes; fixed-size values are a view of the array (no copy). */
export function encodeRaw(data: TensorData): Buffer {
  if (Array.isArray(data)) return encodeRawStrings(data)
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}

function encodeRawStrings(values: readonly string[]): Buffer {
  const encoded = values.map((value) => Buffer.from(value, 'utf8'))
  let size = 0
  for (const bytes of encoded) size += 4 + bytes.byteLength
  const out = Buffer.allocUnsafe(size)
  let offset = 0
  for (const bytes of encoded) {
    out.writeUInt32LE(bytes.byteLength, offset)
    bytes.copy(out, offset + 4)
    offset += 4 + bytes.byteLength
  }
  return out
}
