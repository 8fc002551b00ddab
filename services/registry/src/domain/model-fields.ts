import { ValidationError, type FieldIssue } from '@argmax/errors'
import {
  ALIAS_PATTERN,
  MAX_DESCRIPTION_LENGTH,
  MAX_TAGS,
  MODEL_NAME_PATTERN,
  TAG_PATTERN,
} from './limits.ts'

/** The editable fields of a model, checked the same way on create and on update. */
export interface ModelFields {
  description?: string
  tags?: string[]
}

export function modelFieldIssues(fields: ModelFields): FieldIssue[] {
  const issues: FieldIssue[] = []
  if (fields.description !== undefined && fields.description.length > MAX_DESCRIPTION_LENGTH) {
    issues.push({
      field: 'description',
      message: `must be at most ${MAX_DESCRIPTION_LENGTH} characters`,
    })
  }
  if (fields.tags !== undefined) {
    if (fields.tags.length > MAX_TAGS)
      issues.push({ field: 'tags', message: `at most ${MAX_TAGS} tags` })
    fields.tags.forEach((tag, index) => {
      if (!TAG_PATTERN.test(tag)) {
        issues.push({
          field: `tags/${index}`,
          message: 'letters, digits and . _ : / - only, starting with a letter or digit, ≤ 63',
        })
      }
    })
  }
  return issues
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
    throw new ValidationError(issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues)
  }
}
