import { canAccess, type Principal } from '@argmax/auth'
import { verifyPredictionId } from '@argmax/contracts'
import type { FieldIssue } from '@argmax/errors'
import { checkLabelValue, type CheckedLabel, type LabelTarget } from '../domain/labels.ts'
import type { FeedbackDeps } from './dependencies.ts'
import { versionSignature } from './model-access.ts'

const DAY_MS = 24 * 3600 * 1000
/** Clocks drift: a prediction id a little ahead of ours is still genuine. */
const FUTURE_SKEW_MS = 5 * 60 * 1000

export interface RowIssue extends FieldIssue {
  row: number
}

export interface CheckedBatch {
  labels: Array<CheckedLabel & { row: number }>
  issues: RowIssue[]
  /** Models named by prediction ids that the caller may not label (or that do not exist). */
  hiddenModels: Map<string, number[]>
}

/**
 * Checks labels row by row, without any lookup per prediction: the id's signature says the
 * platform issued it and carries its model, version and time; the time must be within the
 * retention; the caller must own the model (admins may label any); the value must fit the
 * version's output (a number for a regression, one of its classes for a classification).
 * `field(row, name)` names a field the way the caller's request spells it.
 */
export async function checkLabels(
  deps: Pick<FeedbackDeps, 'db' | 'storedJson' | 'predictionIdSecret' | 'retentionDays' | 'now'>,
  principal: Principal,
  rows: ReadonlyArray<{ predictionId: unknown; value: unknown }>,
  field: (row: number, name: 'predictionId' | 'value') => string,
  options: { fromText?: boolean } = {},
): Promise<CheckedBatch> {
  const now = deps.now().getTime()
  const oldest = now - deps.retentionDays * DAY_MS
  const issues: RowIssue[] = []
  // Each row's one object, from the id's fields to the accepted label (10,000 rows a request).
  const decoded: Array<Omit<CheckedLabel, 'value'> & { row: number; value: unknown }> = []
  rows.forEach((input, row) => {
    const id = input.predictionId
    if (typeof id !== 'string') {
      issues.push({ row, field: field(row, 'predictionId'), message: 'must be a string' })
      return
    }
    const checked = verifyPredictionId(deps.predictionIdSecret, id)
    if (!checked.ok) {
      issues.push({
        row,
        field: field(row, 'predictionId'),
        message:
          checked.reason === 'forged'
            ? 'was not issued by this platform (its signature does not match)'
            : 'is not a prediction id (they look like p1_<payload>.<signature>)',
      })
      return
    }
    const issuedAt = checked.fields.issuedAt.getTime()
    if (issuedAt < oldest) {
      issues.push({
        row,
        field: field(row, 'predictionId'),
        message: `has expired: predictions older than ${deps.retentionDays} days take no labels (issued ${checked.fields.issuedAt.toISOString()})`,
      })
      return
    }
    if (issuedAt > now + FUTURE_SKEW_MS) {
      issues.push({ row, field: field(row, 'predictionId'), message: 'was issued in the future' })
      return
    }
    const { fields } = checked
    decoded.push({
      row,
      predictionId: id,
      model: fields.model,
      version: fields.version,
      issuedAt: fields.issuedAt,
      value: input.value,
    })
  })

  // Ownership once per model, the target once per version.
  const hiddenModels = new Map<string, number[]>()
  const allowed = new Map<string, boolean>()
  for (const label of decoded) {
    if (!allowed.has(label.model)) {
      const model = await deps.db
        .selectFrom('models')
        .select(['owner_id', 'deleted_at'])
        .where('name', '=', label.model)
        .executeTakeFirst()
      allowed.set(
        label.model,
        model !== undefined &&
          model.deleted_at === null &&
          canAccess(principal, model.owner_id, 'write'),
      )
    }
    if (!allowed.get(label.model)) {
      const hidden = hiddenModels.get(label.model) ?? []
      hidden.push(label.row)
      hiddenModels.set(label.model, hidden)
    }
  }

  const targets = new Map<string, LabelTarget>()
  const labels: CheckedBatch['labels'] = []
  for (const label of decoded) {
    if (!allowed.get(label.model)) continue
    const key = `${label.model}\u0000${label.version}`
    let target = targets.get(key)
    if (!target) {
      const { signature } = await versionSignature(deps, label.model, label.version)
      target = {
        task: signature.task,
        ...(signature.classes ? { classes: signature.classes } : {}),
      }
      targets.set(key, target)
    }
    const value = checkLabelValue(label.value, target, options)
    if (!value.ok) {
      issues.push({ row: label.row, field: field(label.row, 'value'), message: value.message })
      continue
    }
    // The row's object becomes the accepted label: its value is now a LabelValue.
    label.value = value.value
    labels.push(label as CheckedLabel & { row: number })
  }
  issues.sort((a, b) => a.row - b.row)
  return { labels, issues, hiddenModels }
}
