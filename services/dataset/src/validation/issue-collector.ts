import type { ValidationIssue } from './validation.types.ts'

/** Keeps the first `max` issues; parsing may stop once it is full. */
export class IssueCollector {
  readonly issues: ValidationIssue[] = []

  constructor(private readonly max: number) {}

  add(issue: ValidationIssue): void {
    if (this.issues.length < this.max) this.issues.push(issue)
  }

  get count(): number {
    return this.issues.length
  }

  get full(): boolean {
    return this.issues.length >= this.max
  }
}
