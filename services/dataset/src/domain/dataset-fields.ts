import { ValidationError, type FieldIssue } from '@argmax/errors'
import { labelIssues } from '@argmax/contracts'
import { MAX_NAME_LENGTH } from './limits.ts'

/** The editable fields of a dataset, checked the same way on create and on update. */
export interface DatasetFields {
  name?: string
  description?: string
  tags?: string[]
}

export function datasetFieldIssues(fields: DatasetFields): FieldIssue[] {
  const issues: FieldIssue[] = []
  if (fields.name !== undefined) {
    const name = fields.name.trim()
    if (name.length === 0) issues.push({ field: 'name', message: 'must not be blank' })
    if (name.length > MAX_NAME_LENGTH) {
      issues.push({ field: 'name', message: `must be at most ${MAX_NAME_LENGTH} characters` })
    }
  }
  issues.push(...labelIssues(fields))
  return issues
}

export function assertValidDatasetFields(fields: DatasetFields): void {
  const issues = datasetFieldIssues(fields)
  if (issues.length > 0) {
    throw ValidationError.of(issues)
  }
}

/** Tags are a set: order and duplicates carry no meaning, so store them sorted and unique. */
export function normaliseTags(tags: string[]): string[] {
  return [...new Set(tags)].sort()
}
