import { TENSOR_DATATYPES, type ModelSignature, type TensorSpec } from '@argmax/contracts'
import type { FieldIssue } from '@argmax/errors'

/**
 * Checks a `ModelSignature` beyond its JSON shape: names unique and present, shapes of -1 or
 * positive sizes with the batch first, classes for a classifier. Issues name the field under
 * `prefix` (`signature/inputs/2/shape`), as a 400 does.
 */
export function signatureIssues(signature: ModelSignature, prefix = 'signature'): FieldIssue[] {
  const issues: FieldIssue[] = []
  if (signature.task !== 'regression' && signature.task !== 'classification') {
    issues.push({ field: `${prefix}/task`, message: 'must be regression or classification' })
  }
  for (const side of ['inputs', 'outputs'] as const) {
    const specs = signature[side]
    if (!Array.isArray(specs) || specs.length === 0) {
      issues.push({ field: `${prefix}/${side}`, message: 'must name at least one tensor' })
      continue
    }
    const seen = new Set<string>()
    specs.forEach((spec, index) => {
      issues.push(...tensorIssues(spec, `${prefix}/${side}/${index}`))
      if (seen.has(spec.name)) {
        issues.push({ field: `${prefix}/${side}/${index}/name`, message: `'${spec.name}' twice` })
      }
      seen.add(spec.name)
    })
  }
  if (
    signature.task === 'classification' &&
    (!Array.isArray(signature.classes) || signature.classes.length < 2)
  ) {
    issues.push({ field: `${prefix}/classes`, message: 'a classifier lists at least two classes' })
  }
  return issues
}

function tensorIssues(spec: TensorSpec, at: string): FieldIssue[] {
  const issues: FieldIssue[] = []
  if (typeof spec?.name !== 'string' || spec.name.length === 0) {
    issues.push({ field: `${at}/name`, message: 'must not be empty' })
  }
  if (!TENSOR_DATATYPES.includes(spec?.datatype)) {
    issues.push({
      field: `${at}/datatype`,
      message: `must be one of ${TENSOR_DATATYPES.join(', ')}`,
    })
  }
  if (
    !Array.isArray(spec?.shape) ||
    spec.shape.length === 0 ||
    !spec.shape.every((d) => Number.isInteger(d) && (d === -1 || d > 0))
  ) {
    issues.push({
      field: `${at}/shape`,
      message: 'must list dimensions of -1 (variable) or sizes > 0',
    })
  }
  if (typeof spec?.nullable !== 'boolean') {
    issues.push({ field: `${at}/nullable`, message: 'must be true or false' })
  }
  return issues
}

/** A stored `schema.json`: the signature, or why it is not one. */
export function parseSignatureJson(
  text: string,
): { ok: true; signature: ModelSignature } | { ok: false; message: string } {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    return { ok: false, message: `schema.json is not JSON: ${(error as Error).message}` }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, message: 'schema.json is not an object' }
  }
  const signature = raw as ModelSignature
  const issues = signatureIssues(signature, 'schema.json')
  if (issues.length > 0) {
    return { ok: false, message: issues.map((i) => `${i.field}: ${i.message}`).join('; ') }
  }
  return { ok: true, signature }
}
