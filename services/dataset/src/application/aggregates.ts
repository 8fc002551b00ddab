import type { Principal } from '@argmax/auth'
import { handleCommand, type RecordedEvent } from '@argmax/events'
import {
  datasetDecider,
  versionDecider,
  type DatasetCommand,
  type DatasetEvent,
  type DatasetState,
  type VersionCommand,
  type VersionEvent,
  type VersionState,
} from '../domain/index.ts'
import { datasetSubject, versionSubject } from '../streams.ts'
import type { DatasetDeps } from './dependencies.ts'

type Store = Pick<DatasetDeps, 'store' | 'names'>

/** Who caused a change: the caller, or a component of the service (`system:validator`). */
export type Actor = Principal | `system:${string}`

function actorId(actor: Actor): string {
  return typeof actor === 'string' ? actor : actor.subject
}

function asDomainEvent<E>(recorded: RecordedEvent): E {
  return { id: recorded.id, type: recorded.type, data: recorded.data } as E
}

export async function loadDataset(
  { store, names }: Store,
  datasetId: string,
): Promise<{ state: DatasetState; lastSequence: number }> {
  const events = await store.load(datasetSubject(names, datasetId))
  return {
    state: events
      .map((e) => asDomainEvent<DatasetEvent>(e))
      .reduce(datasetDecider.evolve, datasetDecider.initialState),
    lastSequence: events.at(-1)?.sequence ?? 0,
  }
}

export async function loadVersion(
  { store, names }: Store,
  versionId: string,
): Promise<{ state: VersionState; lastSequence: number }> {
  const events = await store.load(versionSubject(names, versionId))
  return {
    state: events
      .map((e) => asDomainEvent<VersionEvent>(e))
      .reduce(versionDecider.evolve, versionDecider.initialState),
    lastSequence: events.at(-1)?.sequence ?? 0,
  }
}

export interface CommandOutcome<State> {
  state: State
  /** The stream sequence of the last event written (or of the aggregate, if none was). */
  position: number
  written: number
}

/** Load → decide → append with the expected sequence, retried on concurrent writes. */
export async function runDatasetCommand(
  { store, names }: Store,
  actor: Actor,
  datasetId: string,
  command: DatasetCommand,
  correlationId?: string,
): Promise<CommandOutcome<DatasetState>> {
  const result = await handleCommand({
    store,
    subject: datasetSubject(names, datasetId),
    decide: datasetDecider.decide,
    evolve: (state: DatasetState, event: RecordedEvent | DatasetEvent) =>
      datasetDecider.evolve(state, asDomainEvent<DatasetEvent>(event as RecordedEvent)),
    initialState: datasetDecider.initialState,
    command,
    meta: { actor: actorId(actor), ...(correlationId ? { correlationId } : {}) },
  })
  return { state: result.state, position: result.lastSequence, written: result.events.length }
}

export async function runVersionCommand(
  { store, names }: Store,
  actor: Actor,
  versionId: string,
  command: VersionCommand,
  correlationId?: string,
  /** Checks on the state the command is decided on (access rules), saving a separate load. */
  guard?: (state: VersionState) => void,
): Promise<CommandOutcome<VersionState>> {
  const result = await handleCommand({
    store,
    subject: versionSubject(names, versionId),
    decide: (command: VersionCommand, state: VersionState) => {
      guard?.(state)
      return versionDecider.decide(command, state)
    },
    evolve: (state: VersionState, event: RecordedEvent | VersionEvent) =>
      versionDecider.evolve(state, asDomainEvent<VersionEvent>(event as RecordedEvent)),
    initialState: versionDecider.initialState,
    command,
    meta: { actor: actorId(actor), ...(correlationId ? { correlationId } : {}) },
  })
  return { state: result.state, position: result.lastSequence, written: result.events.length }
}
