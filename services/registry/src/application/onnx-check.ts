import { InferenceSession, type Tensor } from 'onnxruntime-node'
import type { ModelSignature, TensorDatatype, TensorSpec } from '@argmax/contracts'
import { ValidationError, type FieldIssue } from '@argmax/errors'

/** onnxruntime's tensor type for each v2 datatype (BYTES are ONNX strings). */
const ORT_TYPES: Record<TensorDatatype, Tensor.Type> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
}

/**
 * The manual registration's check of an ONNX file against its declared signature, in the
 * runtime the model servers use: the file must load in onnxruntime-node, every declared input
 * and output must be in the graph with the same element type and rank, and the graph must take
 * no input the signature leaves out. Throws a ValidationError (400) whose issues name the
 * signature's field and the input or output.
 */
export async function checkOnnxFile(path: string, signature: ModelSignature): Promise<void> {
  let session: InferenceSession
  try {
    session = await InferenceSession.create(path)
  } catch (error) {
    throw ValidationError.field(
      'file',
      `model.onnx cannot be loaded by ONNX Runtime: ${(error as Error).message.split('\n')[0]}`,
    )
  }
  try {
    const issues = [
      ...compareSide('input', signature.inputs, session.inputMetadata),
      ...compareSide('output', signature.outputs, session.outputMetadata),
    ]
    if (issues.length > 0) {
      throw new ValidationError(
        `the declared signature does not match model.onnx: ${issues.map((i) => i.message).join('; ')}`,
        issues,
      )
    }
  } finally {
    await session.release()
  }
}

type Metadata = InferenceSession['inputMetadata']

function compareSide(
  side: 'input' | 'output',
  specs: TensorSpec[],
  metadata: Metadata,
): FieldIssue[] {
  const issues: FieldIssue[] = []
  const graph = new Map(metadata.map((m) => [m.name, m]))
  const field = (index: number, part: string) => `signature/${side}s/${index}/${part}`
  specs.forEach((spec, index) => {
    const found = graph.get(spec.name)
    if (!found) {
      issues.push({
        field: field(index, 'name'),
        message: `${side} '${spec.name}' is not in the model (its ${side}s: ${[...graph.keys()].map((n) => `'${n}'`).join(', ')})`,
      })
      return
    }
    if (!found.isTensor) {
      issues.push({
        field: field(index, 'datatype'),
        message: `${side} '${spec.name}' is not a tensor in the model`,
      })
      return
    }
    const want = ORT_TYPES[spec.datatype]
    if (found.type !== want) {
      issues.push({
        field: field(index, 'datatype'),
        message: `${side} '${spec.name}' is declared ${spec.datatype}, the model's is ${found.type}`,
      })
    }
    if (found.shape.length > 0 && found.shape.length !== spec.shape.length) {
      issues.push({
        field: field(index, 'shape'),
        message: `${side} '${spec.name}' is declared with ${spec.shape.length} dimensions ${JSON.stringify(spec.shape)}, the model's has ${found.shape.length} ${JSON.stringify(found.shape)}`,
      })
    } else {
      found.shape.forEach((dimension, i) => {
        const declared = spec.shape[i]
        if (
          typeof dimension === 'number' &&
          dimension > 0 &&
          declared !== -1 &&
          declared !== dimension
        ) {
          issues.push({
            field: field(index, 'shape'),
            message: `${side} '${spec.name}' dimension ${i} is declared ${declared}, the model's is ${dimension}`,
          })
        }
      })
    }
  })
  if (side === 'input') {
    const declared = new Set(specs.map((s) => s.name))
    for (const name of graph.keys()) {
      if (!declared.has(name)) {
        issues.push({
          field: 'signature/inputs',
          message: `the model takes input '${name}', which the signature does not declare`,
        })
      }
    }
  }
  return issues
}
