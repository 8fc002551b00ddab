import type { ModelSignature, TensorSpec } from '@argmax/contracts'

/**
 * Whether callers of `before` can call `after` unchanged: the same inputs with the same
 * datatypes (and none that took missing values and no longer does), the same outputs with the
 * same datatypes. The differences, in words, when not.
 */
export function signatureDifferences(before: ModelSignature, after: ModelSignature): string[] {
  const differences: string[] = []
  compareSide('input', before.inputs, after.inputs, differences, true)
  compareSide('output', before.outputs, after.outputs, differences, false)
  return differences
}

function compareSide(
  side: 'input' | 'output',
  before: TensorSpec[],
  after: TensorSpec[],
  differences: string[],
  checkNullability: boolean,
): void {
  const next = new Map(after.map((spec) => [spec.name, spec]))
  const previous = new Map(before.map((spec) => [spec.name, spec]))
  for (const spec of before) {
    const now = next.get(spec.name)
    if (!now) {
      differences.push(`${side} '${spec.name}' is gone`)
      continue
    }
    if (now.datatype !== spec.datatype) {
      differences.push(`${side} '${spec.name}' was ${spec.datatype}, is ${now.datatype}`)
    }
    if (checkNullability && spec.nullable && !now.nullable) {
      differences.push(`${side} '${spec.name}' no longer accepts missing values`)
    }
  }
  for (const spec of after) {
    if (!previous.has(spec.name)) differences.push(`${side} '${spec.name}' is new`)
  }
}
