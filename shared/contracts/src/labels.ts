/**
 * The description and tags that datasets and models both carry, under one set of rules: a tag
 * that filters datasets filters models too, and every API refuses the same things.
 */
export const MAX_DESCRIPTION_LENGTH = 10_000
export const MAX_TAGS = 20
/** Tags are filterable labels, so they stay simple: `team:vision`, `v1.2`, `pii-free`. */
export const TAG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,62}$/

/** What is wrong with a description and tags, each issue naming its field (`tags/3`). */
export function labelIssues(fields: {
  description?: string | undefined
  tags?: readonly string[] | undefined
}): Array<{ field: string; message: string }> {
  const issues: Array<{ field: string; message: string }> = []
  if (fields.description !== undefined && fields.description.length > MAX_DESCRIPTION_LENGTH) {
    issues.push({
      field: 'description',
      message: `must be at most ${MAX_DESCRIPTION_LENGTH} characters`,
    })
  }
  if (fields.tags !== undefined) {
    if (fields.tags.length > MAX_TAGS) {
      issues.push({ field: 'tags', message: `at most ${MAX_TAGS} tags` })
    }
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
