import { ConcurrencyError } from '@argmax/errors'
import pRetry from 'p-retry'
import type { NewEvent, RecordedEvent } from './envelope.ts'
import type { EventStore } from './event-store.ts'

/** A pure aggregate: `decide` turns a command and the current state into new events. */
export interface Decider<Command, Event extends NewEvent, State> {
  decide(command: Command, state: State): Event[]
  evolve(state: State, event: Event): State
  initialState: State
}

/**
 * A decider that can be loaded from a stream: it names every event type it writes, so that what
 * is read back is checked to be one of its events before `evolve` sees it.
 */
export interface AggregateDecider<Command, Event extends NewEvent, State> extends Decider<
  Command,
  Event,
  State
> {
  eventTypes: readonly Event['type'][]
}

/** Who caused a change: a caller (a verified principal) or a component (`system:validator`). */
export type Actor = { readonly subject: string } | `system:${string}`

export function actorId(actor: Actor): string {
  return typeof actor === 'string' ? actor : actor.subject
}

export interface LoadedAggregate<State> {
  state: State
  /** The subject's last sequence (0: no events yet): what an append must expect. */
  position: number
}

export interface CommandOptions<State> {
  actor: Actor
  /** The request the change belongs to; defaults to the first event's id. */
  correlationId?: string
  causationId?: string
  /**
   * Checks on the state the command is decided on (e.g. access rules), run before `decide` on
   * every attempt: the caller needs no separate load, and a check never sees a stale state.
   */
  guard?: (state: State) => void
  /**
   * Conflicts with concurrent writers are retried this many times (default 30). Each conflict
   * means another writer's command went through, so n writers at once need up to n attempts:
   * 30 lets a burst of that many commands on one aggregate all succeed (a dozen admins and
   * monitors triggering one pipeline at once did not with 10, on a loaded machine).
   */
  maxRetries?: number
}

export interface CommandOutcome<State, Event> {
  /** The state after the command (unchanged when it decided nothing). */
  state: State
  /** The stream sequence of the last event written, or of the aggregate if none was. */
  position: number
  /** The events written, as recorded. */
  events: Array<RecordedEvent & Event>
  written: number
}

/** Reads a subject's events and folds them into the aggregate's state. */
export async function loadAggregate<Command, Event extends NewEvent, State>(
  store: EventStore,
  decider: AggregateDecider<Command, Event, State>,
  subject: string,
): Promise<LoadedAggregate<State>> {
  const history = await store.load(subject)
  const isOwn = eventGuard(decider)
  let state = decider.initialState
  for (const event of history) {
    if (!isOwn(event)) throw foreignEvent(subject, event)
    state = decider.evolve(state, event)
  }
  return { state, position: history.at(-1)?.sequence ?? 0 }
}

/**
 * Load → fold → decide → append expecting the loaded sequence, so nothing written meanwhile is
 * overwritten. A conflict (another writer got there first) is retried from the load with a short
 * jittered backoff; when the retries are spent the caller gets a ConcurrencyError saying the
 * resource is being changed concurrently (HTTP 409: nothing was written, the request may be
 * sent again). Any other error is not retried.
 */
export async function handleCommand<Command, Event extends NewEvent, State>(
  store: EventStore,
  decider: AggregateDecider<Command, Event, State>,
  subject: string,
  command: Command,
  options: CommandOptions<State>,
): Promise<CommandOutcome<State, Event>> {
  const meta = {
    actor: actorId(options.actor),
    ...(options.correlationId ? { correlationId: options.correlationId } : {}),
    ...(options.causationId ? { causationId: options.causationId } : {}),
  }
  const isOwn = eventGuard(decider)
  const maxRetries = options.maxRetries ?? 30
  const attempt = async (): Promise<CommandOutcome<State, Event>> => {
    const { state, position } = await loadAggregate(store, decider, subject)
    options.guard?.(state)
    const decided = decider.decide(command, state)
    if (decided.length === 0) return { state, position, events: [], written: 0 }
    const appended = await store.append(subject, decided, {
      expectedLastSubjectSequence: position,
      meta,
    })
    // Decided by this decider, so its own: a type it does not declare is a bug to surface.
    const events = appended.events.map((event) => {
      if (!isOwn(event)) throw foreignEvent(subject, event)
      return event
    })
    return {
      state: events.reduce(decider.evolve, state),
      position: appended.lastSequence,
      events,
      written: events.length,
    }
  }
  try {
    return await pRetry(attempt, {
      retries: maxRetries,
      // Jittered so that writers which collided do not collide again in lock-step.
      minTimeout: 1,
      factor: 2,
      maxTimeout: 50,
      randomize: true,
      shouldRetry: ({ error }) => error instanceof ConcurrencyError,
    })
  } catch (error) {
    if (!(error instanceof ConcurrencyError)) throw error
    throw new ConcurrencyError(
      subject,
      error.expectedSequence,
      `${subject} is being changed concurrently: gave up after ${maxRetries + 1} attempts, ` +
        'nothing was written; the request may be retried',
    )
  }
}

/**
 * The one place a recorded event becomes a domain event: its type must be one the decider
 * declares; its data is the current schema's (the store upcasts old versions on read).
 */
function eventGuard<Event extends NewEvent>(decider: {
  eventTypes: readonly Event['type'][]
}): (event: RecordedEvent) => event is RecordedEvent & Event {
  const types = new Set<string>(decider.eventTypes)
  return (event): event is RecordedEvent & Event => types.has(event.type)
}

function foreignEvent(subject: string, event: RecordedEvent): Error {
  return new Error(
    `${subject} holds event ${event.type} at sequence ${event.sequence}, ` +
      'which its aggregate does not declare',
  )
}
