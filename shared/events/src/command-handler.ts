import { ConcurrencyError } from '@argmax/errors'
import type { EventMetadata, NewEvent, RecordedEvent } from './envelope.ts'
import type { EventStore } from './event-store.ts'

/** A pure aggregate: `decide` turns a command and the current state into new events. */
export interface Decider<Command, Event extends NewEvent, State> {
  decide(command: Command, state: State): Event[]
  evolve(state: State, event: Event): State
  initialState: State
}

export interface HandleCommandOptions<Command, State> {
  store: EventStore
  subject: string
  decide: (command: Command, state: State) => NewEvent[]
  /** Receives recorded events (their `type` and `data` are the domain event's). */
  evolve: (state: State, event: RecordedEvent) => State
  initialState: State
  command: Command
  meta: EventMetadata
  /** Conflicts with concurrent writers are retried this many times, then rethrown. */
  maxRetries?: number
}

export interface HandleCommandResult<State> {
  events: RecordedEvent[]
  /** The subject's last sequence after the command (unchanged when it decided nothing). */
  lastSequence: number
  state: State
}

/** Load → fold → decide → append expecting the loaded sequence; on conflict, all over again. */
export async function handleCommand<Command, State>({
  store,
  subject,
  decide,
  evolve,
  initialState,
  command,
  meta,
  maxRetries = 10,
}: HandleCommandOptions<Command, State>): Promise<HandleCommandResult<State>> {
  for (let attempt = 0; ; attempt++) {
    const history = await store.load(subject)
    const state = history.reduce(evolve, initialState)
    const loadedSequence = history.at(-1)?.sequence ?? 0
    const decided = decide(command, state)
    if (decided.length === 0) return { events: [], lastSequence: loadedSequence, state }
    try {
      const { events, lastSequence } = await store.append(subject, decided, {
        expectedLastSubjectSequence: loadedSequence,
        meta,
      })
      return { events, lastSequence, state: events.reduce(evolve, state) }
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= maxRetries) throw error
      await backoff(attempt)
    }
  }
}

// Jittered so that writers which collided do not collide again in lock-step.
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(2 ** attempt, 50)
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling))
}
