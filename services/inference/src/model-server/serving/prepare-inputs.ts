import type { ModelSignature, TensorSpec } from '@argmax/contracts'
import { ValidationError, type FieldIssue } from '@argmax/errors'
import { isDatatype, isFloating } from '../tensors/datatypes.ts'
import { inputField } from '../tensors/tensor-errors.ts'
import { elementCount, type Tensor } from '../tensors/tensor.ts'
import type { WireInput } from './infer-call.ts'

/**
 * The model server's own check of a request against the version's signature: every input
 * present once, known, of the signature's datatype and shape, its values decodable, and no NaN
 * in a non-nullable floating-point input. The gateway checks more (allowed values, nulls by
 * column); this is the defence that keeps a malformed tensor away from ONNX Runtime. Every
 * problem is named at once, under `inputs/<name>` or `outputs/<name>`.
 */

export interface PreparedInputs {
  /** In the signature's input order. */
  tensors: Tensor[]
  /** The batch dimension shared by every input (1 for a version that does not batch). */
  rows: number
}

/** Largest element count a single input may declare (its values must also fit the message). */
const MAX_ELEMENTS = 2 ** 31 - 1

/** Whether every input and output has a variable first dimension: rows can be merged. */
export function isBatchable(signature: ModelSignature): boolean {
  let batchable = batchableCache.get(signature)
  if (batchable === undefined) {
    batchable = [...signature.inputs, ...signature.outputs].every((spec) => spec.shape[0] === -1)
    batchableCache.set(signature, batchable)
  }
  return batchable
}

export function prepareInputs(
  signature: ModelSignature,
  inputs: readonly WireInput[],
): PreparedInputs {
  const issues: FieldIssue[] = []
  const issue = (name: string, message: string) => issues.push({ field: inputField(name), message })
  const specs = specsOf(signature)
  const tensors = new Array<Tensor | undefined>(signature.inputs.length)
  const batchable = isBatchable(signature)
  let rows: number | undefined

  for (const input of inputs) {
    const entry = specs.get(input.name)
    if (!entry) {
      issue(
        input.name,
        `is not an input of this model (its inputs: ${signature.inputs.map((s) => s.name).join(', ')})`,
      )
      continue
    }
    if (tensors[entry.index] !== undefined) {
      issue(input.name, 'is given more than once')
      continue
    }
    const { spec } = entry
    if (input.datatype !== spec.datatype) {
      issue(
        input.name,
        isDatatype(input.datatype)
          ? `datatype is ${input.datatype}; the model takes ${spec.datatype}`
          : `datatype ${JSON.stringify(input.datatype)} is not a v2 datatype; the model takes ${spec.datatype}`,
      )
      continue
    }
    const shape = parseShape(input.shape)
    if (typeof shape === 'string') {
      issue(input.name, shape)
      continue
    }
    const shapeProblem = checkShape(spec, shape)
    if (shapeProblem) {
      issue(input.name, shapeProblem)
      continue
    }
    const count = elementCount(shape)
    if (count > MAX_ELEMENTS) {
      issue(input.name, `shape [${shape.join(', ')}] holds more than ${MAX_ELEMENTS} elements`)
      continue
    }
    if (batchable) {
      if (rows === undefined) rows = shape[0]!
      else if (shape[0] !== rows) {
        issue(input.name, `has ${shape[0]} rows where the other inputs have ${rows}`)
        continue
      }
    }
    let tensor: Tensor
    try {
      tensor = {
        name: spec.name,
        datatype: spec.datatype,
        shape,
        data: input.values(spec.datatype, count),
      }
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      issues.push(...error.issues)
      continue
    }
    const missing = spec.nullable ? -1 : firstNaN(tensor)
    if (missing >= 0) {
      const rowSize = elementCount(shape.slice(1)) || 1
      issue(
        input.name,
        `row ${Math.floor(missing / rowSize)} is missing (NaN/null) but the input is not nullable`,
      )
      continue
    }
    tensors[entry.index] = tensor
  }
  signature.inputs.forEach((spec, i) => {
    if (tensors[i] === undefined && !issues.some((x) => x.field === inputField(spec.name))) {
      issue(spec.name, `is required (${spec.datatype} [${spec.shape.join(', ')}])`)
    }
  })
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid inputs: ${issues.map((x) => `${x.field}: ${x.message}`).join('; ')}`,
      issues,
    )
  }
  return { tensors: tensors as Tensor[], rows: batchable ? (rows ?? 0) : 1 }
}

/** The outputs asked for, checked against the signature; empty means all of them. */
export function requestedOutputs(signature: ModelSignature, names: readonly string[]): number[] {
  if (names.length === 0) return signature.outputs.map((_, i) => i)
  const issues: FieldIssue[] = []
  const indices: number[] = []
  for (const name of names) {
    const index = signature.outputs.findIndex((spec) => spec.name === name)
    if (index < 0) {
      issues.push({
        field: `outputs/${name}`,
        message: `is not an output of this model (its outputs: ${signature.outputs.map((s) => s.name).join(', ')})`,
      })
    } else if (indices.includes(index)) {
      issues.push({ field: `outputs/${name}`, message: 'is requested more than once' })
    } else {
      indices.push(index)
    }
  }
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid outputs: ${issues.map((x) => `${x.field}: ${x.message}`).join('; ')}`,
      issues,
    )
  }
  return indices
}

// Per signature (a loaded version keeps its signature object): looked up on every request.
const specCache = new WeakMap<ModelSignature, Map<string, { spec: TensorSpec; index: number }>>()
const batchableCache = new WeakMap<ModelSignature, boolean>()

function specsOf(signature: ModelSignature) {
  let specs = specCache.get(signature)
  if (!specs) {
    specs = new Map(signature.inputs.map((spec, index) => [spec.name, { spec, index }]))
    specCache.set(signature, specs)
  }
  return specs
}

function parseShape(shape: readonly (string | number)[]): number[] | string {
  const dims: number[] = []
  for (const dim of shape) {
    const value = typeof dim === 'number' ? dim : /^\d+$/.test(dim) ? Number(dim) : Number.NaN
    if (!Number.isSafeInteger(value) || value < 0) {
      return `shape [${shape.join(', ')}] must hold whole numbers ≥ 0`
    }
    dims.push(value)
  }
  return dims
}

function checkShape(spec: TensorSpec, shape: readonly number[]): string | undefined {
  const wanted = `[${spec.shape.join(', ')}]`
  if (shape.length !== spec.shape.length) {
    return `shape [${shape.join(', ')}] has ${shape.length} dimensions; the model takes ${wanted}`
  }
  const differs = spec.shape.some((dim, i) => dim !== -1 && dim !== shape[i])
  return differs ? `shape [${shape.join(', ')}] does not fit the model's ${wanted}` : undefined
}

function firstNaN(tensor: Tensor): number {
  if (!isFloating(tensor.datatype)) return -1
  if (tensor.datatype === 'FP16') {
    // Half precision NaN: every exponent bit set and a non-zero fraction.
    const bits = tensor.data as Uint16Array
    for (let i = 0; i < bits.length; i++) {
      if ((bits[i]! & 0x7c00) === 0x7c00 && (bits[i]! & 0x3ff) !== 0) return i
    }
    return -1
  }
  const data = tensor.data as Float32Array
  for (let i = 0; i < data.length; i++) if (data[i] !== data[i]) return i
  return -1
}
