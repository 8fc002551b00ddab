import { allocate } from './datatypes.ts'
import { elementCount, type Tensor, type TensorData } from './tensor.ts'

/**
 * Joining and splitting tensors along their first (batch) dimension: how dynamic batching
 * merges the requests of one batch into a single model call and hands each its own rows back.
 */

/** Concatenates tensors of one name and datatype whose dimensions past the first agree. */
export function concatRows(parts: readonly Tensor[]): Tensor {
  const first = parts[0]
  if (first === undefined) throw new Error('concatRows needs at least one tensor')
  if (parts.length === 1) return first
  let rows = 0
  let count = 0
  for (const part of parts) {
    rows += part.shape[0] ?? 0
    count += part.data.length
  }
  const data = allocate(first.datatype, count)
  let offset = 0
  for (const part of parts) {
    if (Array.isArray(data)) {
      const strings = part.data as string[]
      for (let i = 0; i < strings.length; i++) data[offset + i] = strings[i]!
    } else {
      ;(data as Float32Array).set(part.data as Float32Array, offset)
    }
    offset += part.data.length
  }
  return {
    name: first.name,
    datatype: first.datatype,
    shape: [rows, ...first.shape.slice(1)],
    data,
  }
}

/** Rows [start, start + rows) of a tensor; typed values are a view (no copy). */
export function sliceRows(tensor: Tensor, start: number, rows: number): Tensor {
  const rowSize = elementCount(tensor.shape.slice(1))
  const from = start * rowSize
  const to = from + rows * rowSize
  const data: TensorData = Array.isArray(tensor.data)
    ? tensor.data.slice(from, to)
    : (tensor.data as Float32Array).subarray(from, to)
  return { ...tensor, shape: [rows, ...tensor.shape.slice(1)], data }
}
