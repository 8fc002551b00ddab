import type { ModelSignature, Release } from '@argmax/contracts'
import { ConcurrencyError, IllegalStateError, NotFoundError, ValidationError } from '@argmax/errors'
import { deciderSpec } from '@argmax/events'
import { describe, expect, it } from 'vitest'
import {
  releaseDecider,
  signatureDifferences,
  type ReleaseEvent,
  type ReleaseFacts,
  type VersionFacts,
} from '../../src/domain/index.ts'

const now = new Date('2026-03-01T12:00:00.000Z')
const releases = deciderSpec(releaseDecider)

const signature: ModelSignature = {
  task: 'regression',
  inputs: [
    { name: 'Running Time min', datatype: 'FP32', shape: [-1], nullable: true },
    { name: 'Major Genre', datatype: 'BYTES', shape: [-1], nullable: true },
  ],
  outputs: [{ name: 'predictions', datatype: 'FP32', shape: [-1], nullable: false }],
}
const otherInputs: ModelSignature = {
  ...signature,
  inputs: [{ name: 'budget', datatype: 'FP32', shape: [-1], nullable: true }],
}

const fine = (sig: ModelSignature = signature): VersionFacts => ({
  status: 'active',
  storageProblems: [],
  signature: sig,
})

function facts(
  currentStable: number | null,
  versions: Record<number, VersionFacts | undefined>,
  modelStatus: ReleaseFacts['modelStatus'] = 'active',
): ReleaseFacts {
  return { modelStatus, currentStable, versions }
}

const change = (
  release: Release,
  f: ReleaseFacts,
  extra: { breaking?: boolean; reason?: string } = {},
) => ({
  type: 'ChangeRelease' as const,
  data: {
    model: 'movies',
    release,
    reason: extra.reason ?? 'better rmse',
    breaking: extra.breaking ?? false,
    changedBy: 'alice',
    facts: f,
    now,
  },
})

function changed(
  release: Release | null,
  previous: Release | null,
  kind: 'set' | 'rollback' = 'set',
): ReleaseEvent {
  return {
    type: 'ReleaseChanged',
    data: {
      model: 'movies',
      release,
      previous,
      reason: 'x',
      changedAt: now.toISOString(),
      kind,
      changedBy: 'alice',
    },
  }
}

describe('release decider', () => {
  it('releases a version with who, when and why', () => {
    releases
      .given([])
      .when(change({ stable: 1 }, facts(null, { 1: fine() })))
      .then([
        {
          type: 'ReleaseChanged',
          data: {
            model: 'movies',
            release: { stable: 1 },
            previous: null,
            reason: 'better rmse',
            changedAt: now.toISOString(),
            kind: 'set',
            changedBy: 'alice',
          },
        },
      ])
  })

  it('the same release again records nothing', () => {
    releases
      .given([changed({ stable: 1 }, null)])
      .when(change({ stable: 1 }, facts(1, { 1: fine() })))
      .then([])
  })

  it('refuses a canary outside 0–100, on the stable version, and a blank reason (400)', () => {
    releases
      .given([])
      .when(
        change(
          { stable: 1, canary: { version: 2, percent: 101 } },
          facts(null, { 1: fine(), 2: fine() }),
        ),
      )
      .thenThrows(ValidationError, 'canary/percent')
    releases
      .given([])
      .when(change({ stable: 1, canary: { version: 1, percent: 5 } }, facts(null, { 1: fine() })))
      .thenThrows(ValidationError, 'canary/version')
    releases
      .given([])
      .when(change({ stable: 1 }, facts(null, { 1: fine() }), { reason: '  ' }))
      .thenThrows(ValidationError, 'reason')
  })

  it('an unknown version is a 404, a deleted one or a missing artifact a 409, a deleted model a 409', () => {
    releases
      .given([])
      .when(change({ stable: 5 }, facts(null, { 5: undefined })))
      .thenThrows(NotFoundError, 'movies/5')
    releases
      .given([])
      .when(change({ stable: 1 }, facts(null, { 1: { ...fine(), status: 'deleted' } })))
      .thenThrows(IllegalStateError, 'deleted')
    releases
      .given([])
      .when(
        change(
          { stable: 1 },
          facts(null, { 1: { ...fine(), storageProblems: ['s3://b/k is not in storage'] } }),
        ),
      )
      .thenThrows(IllegalStateError, 'not in storage')
    releases
      .given([])
      .when(change({ stable: 1 }, facts(null, { 1: fine() }, 'deleted')))
      .thenThrows(IllegalStateError, 'model movies is deleted')
  })

  it('refuses a schema change against the serving stable unless declared breaking', () => {
    const history = [changed({ stable: 1 }, null)]
    const f = facts(1, { 1: fine(), 2: fine(otherInputs) })
    releases
      .given(history)
      .when(change({ stable: 2 }, f))
      .thenThrows(IllegalStateError, "input 'Running Time min' is gone")
    const [event] = releaseDecider.decide(
      change({ stable: 2 }, f, { breaking: true }),
      history.reduce(releaseDecider.evolve, releaseDecider.initialState),
    )
    expect(event!.data).toMatchObject({
      release: { stable: 2 },
      previous: { stable: 1 },
      breaking: true,
    })
    // A canary with other inputs than its stable would split callers' requests over two schemas.
    releases
      .given([])
      .when(
        change(
          { stable: 1, canary: { version: 2, percent: 10 } },
          facts(null, { 1: fine(), 2: fine(otherInputs) }),
        ),
      )
      .thenThrows(IllegalStateError, 'canary version 2 against stable 1')
  })

  it('facts gathered against another current release are sent back (a retry)', () => {
    releases
      .given([changed({ stable: 1 }, null)])
      .when(change({ stable: 2 }, facts(null, { 2: fine() })))
      .thenThrows(ConcurrencyError)
  })

  it('rolls back one step at a time, exactly, and not past the first release', () => {
    const r1 = { stable: 1 }
    const r2 = { stable: 2, canary: { version: 3, percent: 10 } }
    const r3 = { stable: 3 }
    const history = [changed(r1, null), changed(r2, r1), changed(r3, r2)]
    const rollback = (f: ReleaseFacts) => ({
      type: 'RollbackRelease' as const,
      data: { model: 'movies', reason: 'p99 up', changedBy: 'alice', facts: f, now },
    })
    const all = { 1: fine(), 2: fine(), 3: fine() }
    const [first] = releaseDecider.decide(
      rollback(facts(3, all)),
      history.reduce(releaseDecider.evolve, releaseDecider.initialState),
    )
    expect(first!.data).toMatchObject({ release: r2, previous: r3, kind: 'rollback' })
    const after = [...history, first!]
    const [second] = releaseDecider.decide(
      rollback(facts(2, all)),
      after.reduce(releaseDecider.evolve, releaseDecider.initialState),
    )
    expect(second!.data).toMatchObject({ release: r1, previous: r2, kind: 'rollback' })
    releases
      .given([...after, second!])
      .when(rollback(facts(1, all)))
      .thenThrows(IllegalStateError, 'no earlier release')
  })

  it('bootstraps only a model whose release never changed', () => {
    const bootstrap = {
      type: 'BootstrapRelease' as const,
      data: { model: 'movies', stable: 1, facts: facts(null, { 1: fine() }), now },
    }
    const [event] = releaseDecider.decide(bootstrap, releaseDecider.initialState)
    expect(event).toMatchObject({
      data: { release: { stable: 1 }, kind: 'bootstrap', changedBy: 'system:bootstrap' },
    })
    expect(event!.id).toBeDefined()
    releases
      .given([changed({ stable: 2 }, null)])
      .when(bootstrap)
      .then([])
    // Even a model whose release went back to nothing is decided by releases from then on.
    releases
      .given([changed({ stable: 2 }, null), changed(null, { stable: 2 })])
      .when(bootstrap)
      .then([])
  })

  it('a deleted model serves nothing', () => {
    const [event] = releaseDecider.decide(
      { type: 'ClearRelease', data: { model: 'movies', changedBy: 'alice', now } },
      [changed({ stable: 1 }, null)].reduce(releaseDecider.evolve, releaseDecider.initialState),
    )
    expect(event!.data).toMatchObject({
      release: null,
      previous: { stable: 1 },
      kind: 'model_deleted',
    })
  })
})

describe('signature compatibility', () => {
  it('names what changed', () => {
    const narrowed: ModelSignature = {
      ...signature,
      inputs: [
        { name: 'Running Time min', datatype: 'FP32', shape: [-1], nullable: false },
        { name: 'Major Genre', datatype: 'FP32', shape: [-1], nullable: true },
        { name: 'budget', datatype: 'FP32', shape: [-1], nullable: true },
      ],
    }
    expect(signatureDifferences(signature, narrowed)).toEqual([
      "input 'Running Time min' no longer accepts missing values",
      "input 'Major Genre' was BYTES, is FP32",
      "input 'budget' is new",
    ])
    expect(signatureDifferences(signature, signature)).toEqual([])
  })
})
