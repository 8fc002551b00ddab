import type { ModelSignature } from '@argmax/contracts'
import { ValidationError, type FieldIssue } from '@argmax/errors'
import type { WireInput } from '../model-server/serving/infer-call.ts'
import { prepareInputs, requestedOutputs } from '../model-server/serving/prepare-inputs.ts'
import { inputField } from '../model-server/tensors/tensor-errors.ts'
import type { Tensor } from '../model-server/tensors/tensor.ts'

export interface CheckedRequest {
  /** In the signature's input order. */
  tensors: Tensor[]
  rows: number
  /** The outputs to answer, in the order asked (all of the signature's when none were). */
  outputs: string[]
}

/**
 * The gateway's check of a request against the version it is routed to, before anything is
 * sent to a model server: the model server's own checks (`prepareInputs`: every input present
 * once and known, its datatype and shape, values decodable, rows agreeing, no NaN where not
 * nullable) plus the ones only the signature's meaning allows — an empty string is a missing
 * BYTES value, refused where the input is not nullable, and so is a category the model never
 * saw (the graph would treat it as missing). Every problem is named at once, with its row.
 */
export function checkRequest(
  signature: ModelSignature,
  inputs: readonly WireInput[],
  outputs: readonly string[],
): CheckedRequest {
  let prepared: ReturnType<typeof prepareInputs> | undefined
  let outputIndices: number[] | undefined
  const issues: FieldIssue[] = []
  try {
    prepared = prepareInputs(signature, inputs)
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    issues.push(...error.issues)
  }
  try {
    outputIndices = requestedOutputs(signature, outputs)
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    issues.push(...error.issues)
  }
  if (prepared) {
    signature.inputs.forEach((spec, i) => {
      if (spec.datatype !== 'BYTES' || spec.nullable) return
      const values = prepared!.tensors[i]!.data as string[]
      const known = spec.categories ? new Set(spec.categories) : undefined
      for (let row = 0; row < values.length; row++) {
        const value = values[row]!
        if (value === '') {
          issues.push({
            field: inputField(spec.name),
            message: `row ${row} is missing (an empty string) but the input is not nullable`,
          })
          return
        }
        if (known && !known.has(value)) {
          issues.push({
            field: inputField(spec.name),
            message: `row ${row} is ${JSON.stringify(value)}, not one of the model's categories (${[...known].slice(0, 20).join(', ')}${known.size > 20 ? ', …' : ''})`,
          })
          return
        }
      }
    })
  }
  if (issues.length > 0 || !prepared || !outputIndices) {
    throw new ValidationError(
      `invalid request: ${issues.map((x) => `${x.field}: ${x.message}`).join('; ')}`,
      issues,
    )
  }
  return {
    tensors: prepared.tensors,
    rows: prepared.rows,
    outputs: outputIndices.map((index) => signature.outputs[index]!.name),
  }
}
