import type { ModelSignature, TensorSpec } from '@argmax/contracts'
import { ValidationError, type FieldIssue } from '@argmax/errors'
import type { WireInput } from '../model-server/serving/infer-call.ts'
import { isFloating } from '../model-server/tensors/datatypes.ts'
import { decodeJsonData } from '../model-server/tensors/json-codec.ts'
import { elementCount, type Tensor } from '../model-server/tensors/tensor.ts'

/**
 * Record-shaped requests (`POST /v1/models/{name}:predict`, batch predictions, `argmax
 * predict`) as v2 tensors: one tensor per input of the signature, each row's value taken from the
 * record's key of that name. A row may also be a list of values in the signature's input order
 * (KServe v1's positional instances, as in `{"instances": [[6.8, 2.8, 4.8, 1.4]]}`). A key that
 * is absent or null is a missing value — NaN in a floating-point input, `""` in a BYTES one
 * (how the built-in trainers' graphs read missing categories); the signature's checks then
 * refuse it where the input is not nullable. Booleans are 1/0 in numeric inputs. Keys the model
 * does not take, and lists of the wrong length, are refused, naming the row.
 */
export type Instance = Record<string, unknown>
/** A row in KServe v1's positional form: the inputs' values in the signature's order. */
export type PositionalInstance = readonly unknown[]

export function instancesToInputs(
  signature: ModelSignature,
  instances: readonly (Instance | PositionalInstance)[],
): WireInput[] {
  const issues: FieldIssue[] = []
  const records = instances.map((instance, row) => asRecord(signature, instance, row, issues))
  const inputs = signature.inputs.map((spec) => columnInput(spec, records, issues))
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid instances: ${issues
        .slice(0, 20)
        .map((x) => `${x.field}: ${x.message}`)
        .join('; ')}${issues.length > 20 ? `; … ${issues.length - 20} more` : ''}`,
      issues,
    )
  }
  return inputs
}

/**
 * A CSV row (every value text) as a record for `signature`, as batch predictions and
 * `argmax predict` read CSV: only the model's inputs (a dataset's file holds more columns, its
 * target say); an empty cell is missing; in a numeric input `true`/`false` are booleans and
 * anything numeric a number, else the text stays (for the signature's checks to refuse by name).
 */
export function recordFromCsv(
  signature: ModelSignature,
): (row: Record<string, string>) => Instance {
  const wanted = new Set(signature.inputs.map((spec) => spec.name))
  const numeric = new Set(
    signature.inputs.filter((spec) => spec.datatype !== 'BYTES').map((spec) => spec.name),
  )
  return (row) => {
    const instance: Instance = {}
    for (const [key, text] of Object.entries(row)) {
      if (!wanted.has(key)) continue
      if (text === '') instance[key] = null
      else if (!numeric.has(key)) instance[key] = text
      else if (text === 'true' || text === 'false') instance[key] = text === 'true'
      else instance[key] = Number.isNaN(Number(text)) ? text : Number(text)
    }
    return instance
  }
}

/** One row as input name → value; undefined (with its issue noted) when it is neither form. */
function asRecord(
  signature: ModelSignature,
  instance: unknown,
  row: number,
  issues: FieldIssue[],
): Record<string, unknown> | undefined {
  const names = signature.inputs.map((spec) => spec.name)
  if (Array.isArray(instance)) {
    if (instance.length === names.length) {
      return Object.fromEntries(names.map((name, i) => [name, instance[i]]))
    }
    issues.push({
      field: `instances/${row}`,
      message: `has ${instance.length} value${instance.length === 1 ? '' : 's'}; this model takes ${names.length}, in this order: ${names.join(', ')}`,
    })
    return undefined
  }
  if (typeof instance !== 'object' || instance === null) {
    issues.push({
      field: `instances/${row}`,
      message: 'must be an object of input name → value, or a list of values in input order',
    })
    return undefined
  }
  const known = new Set(names)
  for (const key of Object.keys(instance)) {
    if (!known.has(key)) {
      issues.push({
        field: `instances/${row}/${key}`,
        message: `is not an input of this model (its inputs: ${names.join(', ')})`,
      })
    }
  }
  return instance as Record<string, unknown>
}

function columnInput(
  spec: TensorSpec,
  records: readonly (Record<string, unknown> | undefined)[],
  issues: FieldIssue[],
): WireInput {
  const width =
    spec.shape.length > 1 ? elementCount(spec.shape.slice(1).map((d) => (d < 0 ? 1 : d))) : 1
  const values: unknown[] = []
  records.forEach((record, row) => {
    if (record === undefined) return // refused already, with its issue
    const value = record[spec.name]
    if (width === 1 || spec.shape.length === 1) {
      values.push(cell(spec, value, `instances/${row}/${spec.name}`, issues))
    } else if (!Array.isArray(value) || value.length !== width) {
      issues.push({
        field: `instances/${row}/${spec.name}`,
        message: `must be an array of ${width} values`,
      })
    } else {
      value.forEach((item, i) =>
        values.push(cell(spec, item, `instances/${row}/${spec.name}/${i}`, issues)),
      )
    }
  })
  const shape =
    spec.shape.length === 1 ? [records.length] : [records.length, ...spec.shape.slice(1)]
  return {
    name: spec.name,
    datatype: spec.datatype,
    shape,
    values: (datatype, count) => decodeJsonData(spec.name, datatype, count, values),
  }
}

function cell(spec: TensorSpec, value: unknown, field: string, issues: FieldIssue[]): unknown {
  if (value === undefined || value === null) {
    if (spec.datatype === 'BYTES') return ''
    if (isFloating(spec.datatype)) return null
    issues.push({ field, message: `is missing; ${spec.datatype} needs a value` })
    return 0
  }
  if (spec.datatype === 'BYTES') {
    if (typeof value === 'string') return value
    issues.push({ field, message: `is ${JSON.stringify(value)}; the input takes text` })
    return ''
  }
  if (spec.datatype === 'BOOL') {
    if (typeof value === 'boolean') return value
    issues.push({ field, message: `is ${JSON.stringify(value)}; the input takes true or false` })
    return false
  }
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'number') return value
  issues.push({ field, message: `is ${JSON.stringify(value)}; the input takes a number` })
  return 0
}

/** Per-row values of an answer's outputs, for record-shaped answers. */
export function outputRows(tensor: Tensor): unknown[] {
  const rows = tensor.shape[0] ?? 0
  const width = rows === 0 ? 0 : tensor.data.length / rows
  const plain = (value: unknown) =>
    typeof value === 'bigint'
      ? Number(value)
      : typeof value === 'number' && !Number.isFinite(value)
        ? null
        : value
  const out: unknown[] = []
  for (let row = 0; row < rows; row++) {
    if (width === 1) out.push(plain(tensor.data[row]))
    else
      out.push(
        Array.from(tensor.data.slice(row * width, (row + 1) * width) as ArrayLike<unknown>, plain),
      )
  }
  return out
}
