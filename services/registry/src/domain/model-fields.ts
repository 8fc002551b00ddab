import { ValidationError, type FieldIssue } from '@argmax/errors'
import { labelIssues } from '@argmax/contracts'
import { ALIAS_PATTERN, MODEL_NAME_PATTERN } from './limits.ts'

/** The editable fields of a model, checked the same way on create and on update. */
export interface ModelFields {
  description?: string
  tags?: string[]
}

export function modelFieldIssues(fields: ModelFields): FieldIssue[] {
  return labelIssues(fields)
}

export function assertValidModelFields(fields: ModelFields): void {
  throwIssues(modelFieldIssues(fields))
}

export function assertModelName(name: string, field = 'name'): void {
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw ValidationError.field(
      field,
      'must be 1–63 lower-case letters, digits and -, starting with a letter or digit (it becomes /v2/models/{name})',
    )
  }
}

export function assertAliasName(alias: string, field = 'alias'): void {
  if (!ALIAS_PATTERN.test(alias)) {
    throw ValidationError.field(
      field,
      'must be 1–63 lower-case letters, digits and -, starting with a letter (numbers name versions)',
    )
  }
}

/** Tags are a set: order and duplicates carry no meaning, so store them sorted and unique. */
export function normaliseTags(tags: string[]): string[] {
  return [...new Set(tags)].sort()
}

export function throwIssues(issues: FieldIssue[]): void {
  if (issues.length > 0) {
    throw ValidationError.of(issues)
  }
}
