import type { ModelSignature, Release } from '@argmax/contracts'
import {
  ConcurrencyError,
  IllegalStateError,
  NotFoundError,
  ValidationError,
  type FieldIssue,
} from '@argmax/errors'
import type { AggregateDecider } from '@argmax/events'
import { bootstrapReleaseEventId } from './event-ids.ts'
import type { ModelStatus } from './model.decider.ts'
import { RELEASE_EVENT_TYPES, type ReleaseEvent } from './release.events.ts'
import { signatureDifferences } from './signature-compatibility.ts'

export type ReleaseKind = 'set' | 'rollback' | 'bootstrap' | 'model_deleted'

/**
 * What a model serves now, and the releases before it that a rollback restores, most recent
 * last. `changes` counts every ReleaseChanged: a model whose release never changed is the only
 * one the bootstrap setting may give a first release.
 */
export interface ReleaseState {
  current: Release | null
  stack: Array<Release | null>
  changes: number
}

export const initialReleaseState: ReleaseState = { current: null, stack: [], changes: 0 }

/**
 * What the release decision needs to know about the model, gathered by the application from the
 * model's events and from storage before deciding (the decider does no I/O).
 */
export interface ReleaseFacts {
  modelStatus: ModelStatus
  /** The current stable version the facts were gathered against (null: none). */
  currentStable: number | null
  /** Every version the new release names, and the current stable one. */
  versions: Record<number, VersionFacts | undefined>
}

export interface VersionFacts {
  status: 'active' | 'deleted' | 'purged'
  /** What is wrong with its stored objects (HeadObject: present, size as recorded); empty: fine. */
  storageProblems: string[]
  signature: ModelSignature
}

export type ReleaseCommand =
  | {
      type: 'ChangeRelease'
      data: {
        model: string
        release: Release
        reason: string
        breaking: boolean
        changedBy: string
        facts: ReleaseFacts
        now: Date
      }
    }
  | {
      /** The first release, from configuration, for a model whose release never changed. */
      type: 'BootstrapRelease'
      data: { model: string; stable: number; facts: ReleaseFacts; now: Date }
    }
  | {
      type: 'RollbackRelease'
      data: { model: string; reason: string; changedBy: string; facts: ReleaseFacts; now: Date }
    }
  | {
      /** The model was deleted: it serves nothing. */
      type: 'ClearRelease'
      data: { model: string; changedBy: string; now: Date }
    }

export function evolveRelease(state: ReleaseState, event: ReleaseEvent): ReleaseState {
  switch (event.type) {
    case 'ReleaseChanged': {
      const { release, kind } = event.data
      const stack = kind === 'rollback' ? state.stack.slice(0, -1) : [...state.stack, state.current]
      return { current: release, stack, changes: state.changes + 1 }
    }
    default: {
      const unknownEvent: never = event.type
      return unknownEvent
    }
  }
}

export function decideRelease(command: ReleaseCommand, state: ReleaseState): ReleaseEvent[] {
  switch (command.type) {
    case 'ChangeRelease': {
      const { model, release, reason, breaking, changedBy, facts, now } = command.data
      assertReleaseShape(release)
      assertReason(reason)
      assertFactsCurrent(model, state, facts, state.current ? [state.current.stable] : [])
      assertModelServable(model, facts)
      const normalised = normaliseRelease(release)
      // The same release again: PUT is idempotent, nothing to record.
      if (sameRelease(state.current, normalised)) return []
      assertVersionsReleasable(model, normalised, facts)
      if (!breaking) assertCompatible(model, state.current, normalised, facts)
      return [
        changed(model, normalised, state.current, {
          reason,
          kind: 'set',
          changedBy,
          now,
          ...(breaking ? { breaking } : {}),
        }),
      ]
    }
    case 'BootstrapRelease': {
      const { model, stable, facts, now } = command.data
      // First boot only: once the release changed (even back to nothing), releases decide.
      if (state.changes > 0) return []
      assertModelServable(model, facts)
      const release: Release = { stable }
      assertVersionsReleasable(model, release, facts)
      return [
        {
          ...changed(model, release, null, {
            reason: 'bootstrap: ARGMAX_REGISTRY_BOOTSTRAP_RELEASES names this version',
            kind: 'bootstrap',
            changedBy: 'system:bootstrap',
            now,
          }),
          id: bootstrapReleaseEventId(model),
        },
      ]
    }
    case 'RollbackRelease': {
      const { model, reason, changedBy, facts, now } = command.data
      assertReason(reason)
      const target = state.stack.at(-1)
      if (state.stack.length === 0 || target === undefined || target === null) {
        throw new IllegalStateError(
          `model ${model} has no earlier release to roll back to` +
            (state.current ? ' (the current one is its first)' : ''),
        )
      }
      assertFactsCurrent(model, state, facts, servedVersions(target))
      assertModelServable(model, facts)
      // What served before is restored exactly; its versions must still be there.
      assertVersionsReleasable(model, target, facts)
      return [changed(model, target, state.current, { reason, kind: 'rollback', changedBy, now })]
    }
    case 'ClearRelease': {
      const { model, changedBy, now } = command.data
      if (state.current === null) return []
      return [
        changed(model, null, state.current, {
          reason: `model ${model} was deleted`,
          kind: 'model_deleted',
          changedBy,
          now,
        }),
      ]
    }
    default: {
      const unknownCommand: never = command
      return unknownCommand
    }
  }
}

/** Every version a release serves. */
export function servedVersions(release: Release | null): number[] {
  if (!release) return []
  return [
    release.stable,
    ...(release.canary ? [release.canary.version] : []),
    ...(release.shadow !== undefined ? [release.shadow] : []),
  ]
}

function changed(
  model: string,
  release: Release | null,
  previous: Release | null,
  meta: { reason: string; kind: ReleaseKind; changedBy: string; now: Date; breaking?: boolean },
): ReleaseEvent {
  return {
    type: 'ReleaseChanged',
    data: {
      model,
      release,
      previous,
      reason: meta.reason,
      changedAt: meta.now.toISOString(),
      kind: meta.kind,
      changedBy: meta.changedBy,
      ...(meta.breaking ? { breaking: true } : {}),
    },
  }
}

function assertReleaseShape(release: Release): void {
  const issues: FieldIssue[] = []
  const version = (field: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) {
      issues.push({ field, message: 'must be a version number (1, 2, 3 …)' })
    }
  }
  version('stable', release.stable)
  if (release.canary) {
    version('canary/version', release.canary.version)
    const { percent } = release.canary
    if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
      issues.push({ field: 'canary/percent', message: 'must be from 0 to 100' })
    }
    if (release.canary.version === release.stable) {
      issues.push({ field: 'canary/version', message: 'must differ from the stable version' })
    }
  }
  if (release.shadow !== undefined) {
    version('shadow', release.shadow)
    if (release.shadow === release.stable) {
      issues.push({ field: 'shadow', message: 'must differ from the stable version' })
    }
  }
  if (issues.length > 0) {
    throw ValidationError.of(issues)
  }
}

function assertReason(reason: string): void {
  if (reason.trim().length === 0) {
    throw ValidationError.field('reason', 'must say why the release changes')
  }
}

/** Facts gathered against another current release are not the ones to decide on: retry. */
function assertFactsCurrent(
  model: string,
  state: ReleaseState,
  facts: ReleaseFacts,
  needed: number[],
): void {
  const stable = state.current?.stable ?? null
  if (stable !== facts.currentStable || needed.some((v) => !(v in facts.versions))) {
    throw new ConcurrencyError(
      `release.${model}`,
      state.changes,
      `the release of ${model} changed while this change was checked`,
    )
  }
}

function assertModelServable(model: string, facts: ReleaseFacts): void {
  if (facts.modelStatus === 'absent' || facts.modelStatus === 'purged') {
    throw new NotFoundError('model', model)
  }
  if (facts.modelStatus === 'deleted') {
    throw new IllegalStateError(`model ${model} is deleted: it cannot be released`)
  }
}

function assertVersionsReleasable(model: string, release: Release, facts: ReleaseFacts): void {
  for (const version of servedVersions(release)) {
    const found = facts.versions[version]
    if (!found || found.status === 'purged') {
      throw new NotFoundError('version', `${model}/${version}`)
    }
    if (found.status === 'deleted') {
      throw new IllegalStateError(`version ${version} of ${model} is deleted: it cannot be served`)
    }
    if (found.storageProblems.length > 0) {
      throw new IllegalStateError(
        `version ${version} of ${model} cannot be served: ${found.storageProblems.join('; ')}`,
      )
    }
  }
}

/**
 * Callers keep working across the change: the new stable takes and gives what the current
 * stable does, and so do the canary and shadow next to it. Otherwise 409, unless declared
 * `breaking`.
 */
function assertCompatible(
  model: string,
  current: Release | null,
  next: Release,
  facts: ReleaseFacts,
): void {
  const problems: string[] = []
  const compare = (from: number, to: number, label: string) => {
    const before = facts.versions[from]?.signature
    const after = facts.versions[to]?.signature
    if (!before || !after) return
    for (const difference of signatureDifferences(before, after)) {
      problems.push(`${label}: ${difference}`)
    }
  }
  if (current && current.stable !== next.stable) {
    compare(
      current.stable,
      next.stable,
      `version ${next.stable} against the serving stable ${current.stable}`,
    )
  }
  if (next.canary) {
    compare(
      next.stable,
      next.canary.version,
      `canary version ${next.canary.version} against stable ${next.stable}`,
    )
  }
  if (next.shadow !== undefined) {
    compare(next.stable, next.shadow, `shadow version ${next.shadow} against stable ${next.stable}`)
  }
  if (problems.length > 0) {
    throw new IllegalStateError(
      `the release of ${model} would change its schema (${problems.join('; ')}); ` +
        'send breaking: true to release it anyway',
      { differences: problems },
    )
  }
}

/** Canary at 0 % still names a version (deployed, without traffic); key order is fixed. */
export function normaliseRelease(release: Release): Release {
  return {
    stable: release.stable,
    ...(release.canary
      ? { canary: { version: release.canary.version, percent: release.canary.percent } }
      : {}),
    ...(release.shadow !== undefined ? { shadow: release.shadow } : {}),
  }
}

export function sameRelease(a: Release | null, b: Release | null): boolean {
  return JSON.stringify(a && normaliseRelease(a)) === JSON.stringify(b && normaliseRelease(b))
}

export const releaseDecider = {
  decide: decideRelease,
  evolve: evolveRelease,
  initialState: initialReleaseState,
  eventTypes: RELEASE_EVENT_TYPES,
} satisfies AggregateDecider<ReleaseCommand, ReleaseEvent, ReleaseState>
