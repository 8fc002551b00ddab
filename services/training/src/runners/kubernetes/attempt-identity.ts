import { createHash } from 'node:crypto'

/**
 * How an attempt is named and labelled in the cluster. The name is a pure function of (run id,
 * attempt), so a second `start` of the same attempt meets the first one's Job (409) instead of
 * creating another; the labels find an attempt's objects again (`list`, its pods for logs).
 */

export const LABEL = {
  runId: 'argmax.dev/run-id',
  attempt: 'argmax.dev/attempt',
  owner: 'argmax.dev/owner',
  /** `master` or `worker` in an XGBoostJob; `trainer` in a batch Job. */
  replica: 'argmax.dev/replica',
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
} as const

/** Label values are restricted; the exact ids are kept in annotations of the same keys. */
export const ANNOTATION = {
  runId: 'argmax.dev/run-id',
  attempt: 'argmax.dev/attempt',
  owner: 'argmax.dev/owner',
  trainer: 'argmax.dev/trainer',
} as const

export const MANAGED_BY = 'argmax-training'

/** Every object this runner creates, and only those. */
export const MANAGED_SELECTOR = `${LABEL.managedBy}=${MANAGED_BY}`

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const MAX_SLUG = 40

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length)
}

/** The id itself when Kubernetes accepts it as a label value, else a stable digest of it. */
export function labelValue(id: string): string {
  return id.length <= 63 && LABEL_VALUE.test(id) ? id : `sha256-${shortHash(id, 32)}`
}

/**
 * `argmax-<run id>-<attempt>` in the lower case a Job name needs (≤ 63 characters: the Job's
 * pods carry it in a label). Run ids are ULIDs, which ignore case; an id that loses anything
 * else on the way (other characters, length) gets a digest of the original appended.
 */
export function attemptName(runId: string, attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 1) throw new Error(`bad attempt number ${attempt}`)
  const lowered = runId.toLowerCase()
  let slug = lowered
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
  if (slug !== lowered || slug.length > MAX_SLUG || slug === '') {
    slug = `${slug.slice(0, MAX_SLUG - 9).replace(/-$/, '')}-${shortHash(runId, 8)}`.replace(
      /^-/,
      '',
    )
  }
  return `argmax-${slug}-${attempt}`
}

export interface AttemptKey {
  runId: string
  attempt: number
  ownerId: string
}

/** The labels of a Job, its pods and its Secret. */
export function attemptLabels(key: AttemptKey): Record<string, string> {
  return {
    [LABEL.name]: 'argmax-trainer',
    [LABEL.component]: 'training-attempt',
    [LABEL.partOf]: 'argmax',
    [LABEL.managedBy]: MANAGED_BY,
    [LABEL.runId]: labelValue(key.runId),
    [LABEL.attempt]: String(key.attempt),
    [LABEL.owner]: labelValue(key.ownerId),
  }
}

export function attemptAnnotations(key: AttemptKey, trainer: string): Record<string, string> {
  return {
    [ANNOTATION.runId]: key.runId,
    [ANNOTATION.attempt]: String(key.attempt),
    [ANNOTATION.owner]: key.ownerId,
    [ANNOTATION.trainer]: trainer,
  }
}

/** Selects the pods of one attempt (both kinds of workload label their pod templates so). */
export function attemptSelector(runId: string, attempt: number): string {
  return `${MANAGED_SELECTOR},${LABEL.runId}=${labelValue(runId)},${LABEL.attempt}=${attempt}`
}

/** The run and attempt an object of ours belongs to, from its annotations (exact ids). */
export function attemptOf(metadata: {
  annotations?: Record<string, string>
  labels?: Record<string, string>
}): { runId: string; attempt: number } | undefined {
  const runId = metadata.annotations?.[ANNOTATION.runId]
  const attempt = Number(
    metadata.annotations?.[ANNOTATION.attempt] ?? metadata.labels?.[LABEL.attempt],
  )
  if (runId === undefined || !Number.isInteger(attempt) || attempt < 1) return undefined
  return { runId, attempt }
}
