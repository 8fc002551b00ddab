import type { TensorDatatype } from '@argmax/contracts'
import { ValidationError } from '@argmax/errors'
import { describe, expect, it } from 'vitest'
import {
  concatRows,
  decodeContents,
  decodeJsonData,
  decodeRaw,
  encodeContents,
  encodeJsonData,
  encodeRaw,
  halfToFloat,
  sliceRows,
  type Tensor,
} from '../../src/model-server/tensors/index.ts'

function refusal(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return (error as ValidationError).message
  }
  throw new Error('expected a refusal')
}

describe('raw tensor codec', () => {
  const samples: [TensorDatatype, number[] | bigint[]][] = [
    ['BOOL', [1, 0, 1]],
    ['UINT8', [0, 255, 7]],
    ['UINT16', [0, 65_535, 9]],
    ['UINT32', [0, 4_294_967_295, 3]],
    ['UINT64', [0n, 18_446_744_073_709_551_615n, 5n]],
    ['INT8', [-128, 127, 0]],
    ['INT16', [-32_768, 32_767, 1]],
    ['INT32', [-2_147_483_648, 2_147_483_647, 2]],
    ['INT64', [-9_223_372_036_854_775_808n, 9_223_372_036_854_775_807n, 3n]],
    ['FP16', [0x3c00, 0xc000, 0x7e00]],
    ['FP32', [1.5, -2, Number.NaN]],
    ['FP64', [Math.PI, -0, 1e300]],
  ]
  it.each(samples)('round-trips %s little-endian', (datatype, values) => {
    const data = decodeRaw(
      't',
      datatype,
      3,
      encodeRaw(decodeRaw('t', datatype, 3, rawOf(datatype, values))),
    )
    expect(Array.from(data as ArrayLike<number | bigint>)).toEqual(values)
  })

  it('reads from a buffer at any alignment and copies the values out', () => {
    const backing = Buffer.alloc(13)
    const bytes = backing.subarray(1)
    bytes.writeFloatLE(1.25, 0)
    bytes.writeFloatLE(-3, 4)
    bytes.writeFloatLE(8, 8)
    const values = decodeRaw('x', 'FP32', 3, bytes)
    expect(Array.from(values as Float32Array)).toEqual([1.25, -3, 8])
    backing.fill(0)
    expect(Array.from(values as Float32Array)).toEqual([1.25, -3, 8])

    // Larger than Node's pooled buffers, which small tensors are copied into.
    const wide = Buffer.alloc(8 * 2_000 + 3).subarray(3)
    for (let i = 0; i < 2_000; i++) wide.writeDoubleLE(i / 3, 8 * i)
    const many = decodeRaw('x', 'FP64', 2_000, wide) as Float64Array
    expect(many[1_999]).toBe(1_999 / 3)
    expect(many.reduce((a, b) => a + b, 0)).toBeCloseTo((1_999 * 2_000) / 6)
  })

  it('reads BYTES as 4-byte little-endian lengths followed by UTF-8', () => {
    const bytes = encodeRaw(['Drama', '', 'Wéstern'])
    expect(bytes.readUInt32LE(0)).toBe(5)
    expect(decodeRaw('genre', 'BYTES', 3, bytes)).toEqual(['Drama', '', 'Wéstern'])
  })

  it('names the input and the problem of a malformed raw tensor', () => {
    expect(refusal(() => decodeRaw('x', 'FP32', 2, Buffer.alloc(7)))).toBe(
      'inputs/x: raw contents hold 7 bytes; 2 FP32 elements need 8',
    )
    expect(refusal(() => decodeRaw('b', 'BOOL', 1, Buffer.from([2])))).toBe(
      'inputs/b: element 0 is 2, not a BOOL (0 or 1)',
    )
    expect(refusal(() => decodeRaw('g', 'BYTES', 1_000_000_000, Buffer.alloc(8)))).toBe(
      'inputs/g: raw contents hold 8 bytes, too few for 1000000000 BYTES elements',
    )
    const one = encodeRaw(['ab'])
    expect(refusal(() => decodeRaw('g', 'BYTES', 1, Buffer.concat([one, Buffer.from([1])])))).toBe(
      'inputs/g: raw contents hold 1 bytes beyond its 1 BYTES elements',
    )
    const invalid = Buffer.from([2, 0, 0, 0, 0xc3, 0x28])
    expect(refusal(() => decodeRaw('g', 'BYTES', 1, invalid))).toBe(
      'inputs/g: BYTES element 0 is not valid UTF-8',
    )
  })
})

describe('typed contents codec', () => {
  it('reads each datatype from its field and writes it back there', () => {
    expect(decodeContents('a', 'INT64', 2, { int64_contents: ['-9007199254740993', 4] })).toEqual(
      new BigInt64Array([-9_007_199_254_740_993n, 4n]),
    )
    expect(decodeContents('b', 'BOOL', 2, { bool_contents: [true, false] })).toEqual(
      new Uint8Array([1, 0]),
    )
    expect(decodeContents('s', 'BYTES', 1, { bytes_contents: [Buffer.from('Comédie')] })).toEqual([
      'Comédie',
    ])
    expect(encodeContents('INT64', new BigInt64Array([-9_007_199_254_740_993n]))).toEqual({
      int64_contents: ['-9007199254740993'],
    })
    expect(encodeContents('BOOL', new Uint8Array([1, 0]))).toEqual({ bool_contents: [true, false] })
    expect(encodeContents('FP32', new Float32Array([0.5]))).toEqual({ fp32_contents: [0.5] })
    expect(encodeContents('BYTES', ['x'])).toEqual({ bytes_contents: [Buffer.from('x')] })
  })

  it('refuses values outside the datatype, in the wrong field, or too few', () => {
    expect(refusal(() => decodeContents('i', 'INT8', 1, { int_contents: [300] }))).toBe(
      'inputs/i: element 0 is 300, outside the INT8 range',
    )
    expect(refusal(() => decodeContents('f', 'FP64', 1, { fp32_contents: [1] }))).toBe(
      'inputs/f: FP64 values belong in contents.fp64_contents, not contents.fp32_contents',
    )
    expect(refusal(() => decodeContents('f', 'FP32', 3, { fp32_contents: [1] }))).toBe(
      'inputs/f: contents.fp32_contents holds 1 values; the shape needs 3',
    )
    expect(refusal(() => decodeContents('h', 'FP16', 1, {}))).toBe(
      'inputs/h: FP16 has no typed contents; send it in raw_input_contents',
    )
  })
})

describe('JSON codec (REST)', () => {
  it('flattens nested data, reads null as NaN and writes NaN back as null', () => {
    const data = decodeJsonData('x', 'FP32', 4, [
      [1, null],
      [3, 4.5],
    ])
    expect(Array.from(data as Float32Array)).toEqual([1, Number.NaN, 3, 4.5])
    expect(encodeJsonData('FP32', data)).toEqual([1, null, 3, 4.5])
    expect(encodeJsonData('INT64', new BigInt64Array([2n ** 60n, 3n]))).toEqual([
      '1152921504606846976',
      3,
    ])
    expect(decodeJsonData('n', 'INT64', 1, ['1152921504606846976'])).toEqual(
      new BigInt64Array([2n ** 60n]),
    )
    expect(encodeJsonData('FP16', new Uint16Array([0x3c00, 0x7c00]))).toEqual([1, null])
  })

  it('names the element and what the datatype needs', () => {
    expect(refusal(() => decodeJsonData('x', 'INT32', 2, [1, 2.5]))).toBe(
      'inputs/x: element 1 is 2.5; INT32 needs an integer from -2147483648 to 2147483647',
    )
    expect(refusal(() => decodeJsonData('g', 'BYTES', 1, [7]))).toBe(
      'inputs/g: element 0 is 7; BYTES needs a string',
    )
    expect(refusal(() => decodeJsonData('x', 'INT32', 1, [null]))).toBe(
      'inputs/x: element 0 is null; INT32 needs an integer',
    )
    expect(refusal(() => decodeJsonData('x', 'FP32', 3, [1, 2]))).toBe(
      'inputs/x: data holds 2 values; the shape needs 3',
    )
  })

  it('decodes half precision', () => {
    expect([0x3c00, 0xc000, 0x0001, 0x7bff].map(halfToFloat)).toEqual([1, -2, 2 ** -24, 65_504])
  })
})

describe('rows', () => {
  const tensor = (rows: number[][]): Tensor => ({
    name: 'm',
    datatype: 'FP32',
    shape: [rows.length, 2],
    data: new Float32Array(rows.flat()),
  })

  it('concatenates along the first dimension and slices each part back out', () => {
    const a = tensor([[1, 2]])
    const b = tensor([
      [3, 4],
      [5, 6],
    ])
    const joined = concatRows([a, b])
    expect(joined.shape).toEqual([3, 2])
    expect(Array.from(joined.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6])
    const second = sliceRows(joined, 1, 2)
    expect(second.shape).toEqual([2, 2])
    expect(Array.from(second.data as Float32Array)).toEqual([3, 4, 5, 6])
    const strings = concatRows([
      { name: 's', datatype: 'BYTES', shape: [1], data: ['a'] },
      { name: 's', datatype: 'BYTES', shape: [2], data: ['b', 'c'] },
    ])
    expect(sliceRows(strings, 1, 2).data).toEqual(['b', 'c'])
  })
})

function rawOf(datatype: TensorDatatype, values: number[] | bigint[]): Buffer {
  const arrays = {
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
  } as const
  const Array = arrays[datatype as keyof typeof arrays] as unknown as {
    from(values: unknown[]): { buffer: ArrayBuffer }
  }
  return Buffer.from(Array.from(values).buffer)
}
