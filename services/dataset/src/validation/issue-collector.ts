import type { ValidationIssue } from './validation.types.ts'

/**
 * Keeps the first `max` issues; parsing may stop once it is full. An issue quotes the file (a
 * column name, a parser's message with a snippet of the line): a U+0000 in it is written as
 * the visible `\0`, since the rejection lands in PostgreSQL, which cannot store the character.
 */
export class IssueCollector {
  readonly issues: ValidationIssue[] = []

  constructor(private readonly max: number) {}

  add(issue: ValidationIssue): void {
    if (this.issues.length >= this.max) return
    const { column, message } = issue
    this.issues.push({
      ...issue,
      message: visibleNul(message),
      ...(column !== undefined ? { column: visibleNul(column) } : {}),
    })
  }

  get count(): number {
    return this.issues.length
  }

  get full(): boolean {
    return this.issues.length >= this.max
  }
}

function visibleNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\\0') : text
}
