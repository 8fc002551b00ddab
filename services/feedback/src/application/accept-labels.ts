import type { Principal } from '@argmax/auth'
import { assertCanWrite } from '@argmax/auth'
import { NotFoundError, ValidationError } from '@argmax/errors'
import { idempotentId } from '@argmax/events'
import { toLabelRecords } from '../domain/labels.ts'
import { checkLabels } from './check-labels.ts'
import { labelsRequestHash } from './labels-hash.ts'
import type { FeedbackDeps } from './dependencies.ts'
import { publishLabels } from './publish-labels.ts'

/** Problems listed in one refusal; the message says how many there were in all. */
const MAX_LISTED_ISSUES = 50

export interface AcceptedLabels {
  requestId: string
  accepted: number
  receivedAt: Date
  /** A retry under the same `Idempotency-Key`: the first request's answer. */
  repeated: boolean
}

/**
 * Accepts ground truth: every row checked first (the request is refused whole, naming each bad
 * row and field, and nothing is recorded), then the receipts published to FEEDBACK_LOG and
 * acknowledged by JetStream before the answer — an accepted label survives any crash after it.
 * Labels of predictions the caller may not label make the request a 404 naming the model, as
 * anybody else's model is everywhere.
 */
export async function acceptLabels(
  deps: FeedbackDeps,
  principal: Principal,
  rows: ReadonlyArray<{ predictionId: unknown; value: unknown }>,
  options: {
    field: (row: number, name: 'predictionId' | 'value') => string
    idempotencyKey?: string | undefined
    /** The request body as sent, for the `Idempotency-Key`'s hash. */
    body: unknown
  },
): Promise<AcceptedLabels> {
  assertCanWrite(principal)
  const checked = await checkLabels(deps, principal, rows, options.field)
  const [hidden] = checked.hiddenModels.keys()
  if (hidden !== undefined) throw new NotFoundError('model', hidden)
  if (checked.issues.length > 0) {
    const listed = checked.issues.slice(0, MAX_LISTED_ISSUES)
    const count = checked.issues.length
    throw new ValidationError(
      `${count} label${count === 1 ? '' : 's'} refused, nothing recorded: ` +
        listed
          .slice(0, 3)
          .map((issue) => `${issue.field} ${issue.message}`)
          .join('; ') +
        (count > 3 ? '; …' : ''),
      listed.map(({ field, message }) => ({ field, message })),
    )
  }

  let requestId = deps.newId()
  let receivedAt = deps.now()
  let repeated = false
  const key = options.idempotencyKey
  // Canonicalising 10,000 labels is not free: the hash is made once, for the claim and the mark.
  const hash = key !== undefined ? labelsRequestHash(options.body) : ''
  if (key !== undefined) {
    const claimed = await deps.idempotency.claim(principal.subject, key, {
      requestId: idempotentId({ caller: principal.subject, scope: 'feedback.labels', key }),
      receivedAt,
      requestHash: hash,
      published: false,
    })
    ;({ requestId, receivedAt } = claimed.request)
    repeated = claimed.repeated
    if (claimed.repeated && claimed.request.published) {
      return { requestId, accepted: checked.labels.length, receivedAt, repeated }
    }
  }
  const records = toLabelRecords(requestId, receivedAt, checked.labels)
  await publishLabels(deps, {
    requestId,
    source: 'api',
    receivedAt,
    actor: principal.subject,
    records,
  })
  if (key !== undefined) {
    await deps.idempotency.markPublished(principal.subject, key, {
      requestId,
      receivedAt,
      requestHash: hash,
      published: true,
    })
  }
  return { requestId, accepted: records.length, receivedAt, repeated }
}
