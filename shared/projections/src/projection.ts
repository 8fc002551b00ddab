import type { RecordedEvent } from '@argmax/events'
import type { Transaction } from 'kysely'

interface ProjectionBase {
  /** Unique within the service's schema; the checkpoint's key together with the stream. */
  name: string
  /** Event types it applies. Any other event only advances its checkpoint. */
  handles: readonly string[]
  /**
   * Optional NATS subject filters (`*` one token, `>` the rest). They are applied on the client,
   * not the server: every event of the stream still advances the checkpoint, so a wait for the
   * sequence of an event this projection ignores resolves instead of hanging.
   */
  subjects?: readonly string[]
}

/** Applies one event at a time: simplest to write, one statement round trip per event. */
export interface EventProjection<DB> extends ProjectionBase {
  apply(trx: Transaction<DB>, event: RecordedEvent): Promise<void>
  applyBatch?: undefined
}

/**
 * Applies all the handled events of a batch at once (in stream order), e.g. folding them in
 * memory into one multi-row upsert per table: the way to rebuild at tens of thousands of
 * events per second. Must give the same rows as applying the events one batch-of-one at a time.
 */
export interface BatchProjection<DB> extends ProjectionBase {
  applyBatch(trx: Transaction<DB>, events: readonly RecordedEvent[]): Promise<void>
  apply?: undefined
}

export type Projection<DB> = EventProjection<DB> | BatchProjection<DB>

/** What the runner knows about a projection beyond its handlers. */
export interface ProjectionSelector {
  wantsSubject(subject: string): boolean
  wantsType(type: string): boolean
}

export function selectorFor(projection: ProjectionBase): ProjectionSelector {
  const types = new Set(projection.handles)
  const subjects = projection.subjects
  return {
    wantsSubject: (subject) =>
      subjects === undefined || subjects.some((filter) => subjectMatches(filter, subject)),
    wantsType: (type) => types.has(type),
  }
}

/** NATS subject matching: `*` matches one token, a trailing `>` one or more tokens. */
export function subjectMatches(filter: string, subject: string): boolean {
  const want = filter.split('.')
  const have = subject.split('.')
  for (let i = 0; i < want.length; i++) {
    const token = want[i]
    if (token === '>') return i === want.length - 1 && have.length > i
    if (i >= have.length) return false
    if (token !== '*' && token !== have[i]) return false
  }
  return want.length === have.length
}

export async function applyEvents<DB>(
  projection: Projection<DB>,
  trx: Transaction<DB>,
  events: readonly RecordedEvent[],
): Promise<void> {
  if (events.length === 0) return
  if (projection.applyBatch) return projection.applyBatch(trx, events)
  for (const event of events) await projection.apply(trx, event)
}
