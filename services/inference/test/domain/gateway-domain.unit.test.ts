import { randomUUID } from 'node:crypto'
import { REGISTRY_EVENTS } from '@argmax/contracts'
import { describe, expect, it } from 'vitest'
import { CallerLabels, OTHER_CALLER } from '../../src/domain/caller-labels.ts'
import { placeVersion } from '../../src/domain/placement.ts'
import {
  applyRegistryEvent,
  emptyCatalog,
  releaseVersions,
  warmVersion,
} from '../../src/domain/registry-catalog.ts'
import { chooseVersion, trafficBucket } from '../../src/domain/traffic-split.ts'

const object = (uri: string) => ({ uri, sha256: 'a'.repeat(64), size: 1 })

describe('the registry catalog', () => {
  it('folds models, versions and releases in stream order and ignores events it does not know', () => {
    const catalog = emptyCatalog()
    const events = [
      { type: REGISTRY_EVENTS.modelCreated, data: { model: 'movies', ownerId: 'alice' } },
      {
        type: REGISTRY_EVENTS.versionRegistered,
        data: {
          model: 'movies',
          version: 1,
          ownerId: 'alice',
          task: 'regression',
          artifact: object('s3://b/m1'),
          signature: object('s3://b/s1'),
        },
      },
      { type: 'ModelAnnotated', data: { model: 'movies' } },
      {
        type: REGISTRY_EVENTS.releaseChanged,
        data: { model: 'movies', release: { stable: 1, canary: { version: 2, percent: 10 } } },
      },
    ]
    const changed = events.map((event, i) =>
      applyRegistryEvent(catalog, { ...event, sequence: i + 1 }),
    )
    expect(changed).toEqual(['movies', 'movies', undefined, 'movies'])
    const movies = catalog.models.get('movies')!
    expect(movies).toMatchObject({ ownerId: 'alice', deleted: false, releaseSequence: 4 })
    expect(movies.versions.get(1)?.artifact.uri).toBe('s3://b/m1')
    expect(releaseVersions(movies.release)).toEqual([1, 2])
    expect(catalog.position).toBe(4)

    applyRegistryEvent(catalog, {
      type: REGISTRY_EVENTS.modelDeleted,
      sequence: 5,
      data: { model: 'movies' },
    })
    expect(catalog.models.get('movies')).toMatchObject({
      deleted: true,
      release: null,
      releaseSequence: 5,
    })

    applyRegistryEvent(catalog, {
      type: REGISTRY_EVENTS.modelRestored,
      sequence: 6,
      data: { model: 'movies' },
    })
    expect(catalog.models.get('movies')).toMatchObject({ deleted: false, release: null })
    expect(catalog.models.get('movies')!.versions.get(1)?.artifact.uri).toBe('s3://b/m1')
  })

  it('keeps the challenger warm until a release serves it or a rollout of it is rolled back', () => {
    const catalog = emptyCatalog()
    let sequence = 0
    const apply = (type: string, data: Record<string, unknown>) =>
      applyRegistryEvent(catalog, {
        type,
        sequence: ++sequence,
        data: { model: 'movies', ...data },
      })
    apply(REGISTRY_EVENTS.modelCreated, { ownerId: 'alice' })
    for (const version of [1, 2, 3]) {
      apply(REGISTRY_EVENTS.versionRegistered, {
        version,
        ownerId: 'alice',
        task: 'regression',
        artifact: object(`s3://b/m${version}`),
        signature: object(`s3://b/s${version}`),
      })
    }
    apply(REGISTRY_EVENTS.releaseChanged, { release: { stable: 1 } })
    const movies = catalog.models.get('movies')!
    expect(warmVersion(movies)).toBeUndefined()

    apply(REGISTRY_EVENTS.aliasSet, { alias: 'champion', version: 1, previous: null })
    expect(warmVersion(movies)).toBeUndefined()
    expect(
      apply(REGISTRY_EVENTS.aliasSet, { alias: 'challenger', version: 2, previous: null }),
    ).toBe('movies')
    expect(warmVersion(movies)).toBe(2)

    // Its canary serves it: loaded as part of the release, not as the warm one.
    apply(REGISTRY_EVENTS.releaseChanged, {
      release: { stable: 1, canary: { version: 2, percent: 10 } },
    })
    expect(warmVersion(movies)).toBeUndefined()
    apply(REGISTRY_EVENTS.rolloutReverted, { candidate: 2, outcome: 'rolled_back' })
    apply(REGISTRY_EVENTS.releaseChanged, { release: { stable: 1 } })
    expect(warmVersion(movies)).toBeUndefined()

    // An aborted rollout says nothing against its candidate.
    apply(REGISTRY_EVENTS.aliasSet, { alias: 'challenger', version: 3, previous: 2 })
    expect(warmVersion(movies)).toBe(3)
    apply(REGISTRY_EVENTS.rolloutReverted, { candidate: 3, outcome: 'aborted' })
    expect(warmVersion(movies)).toBe(3)
    apply(REGISTRY_EVENTS.aliasRemoved, { alias: 'challenger', previous: 3, reason: 'user' })
    expect(warmVersion(movies)).toBeUndefined()
  })

  it('lists each version of a release once', () => {
    expect(releaseVersions({ stable: 3, canary: { version: 3, percent: 50 }, shadow: 4 })).toEqual([
      3, 4,
    ])
    expect(releaseVersions(null)).toEqual([])
  })
})

describe('the traffic split', () => {
  it('sends the same request id to the same version every time', () => {
    const release = { stable: 1, canary: { version: 2, percent: 50 } }
    for (let i = 0; i < 100; i++) {
      const id = randomUUID()
      expect(chooseVersion(release, id)).toEqual(chooseVersion(release, id))
    }
  })

  it('gives the canary its share within four standard deviations (10,000 request ids, 10 %)', () => {
    const release = { stable: 1, canary: { version: 2, percent: 10 } }
    let canary = 0
    for (let i = 0; i < 10_000; i++)
      if (chooseVersion(release, randomUUID()).variant === 'canary') canary++
    const sigma = Math.sqrt(10_000 * 0.1 * 0.9)
    expect(Math.abs(canary - 1_000)).toBeLessThan(4 * sigma)
  })

  it('honours 0 % and 100 % exactly, and buckets spread over [0, 10 000)', () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => `request-${i}`)
    expect(
      ids.every(
        (id) => chooseVersion({ stable: 1, canary: { version: 2, percent: 0 } }, id).version === 1,
      ),
    ).toBe(true)
    expect(
      ids.every(
        (id) =>
          chooseVersion({ stable: 1, canary: { version: 2, percent: 100 } }, id).version === 2,
      ),
    ).toBe(true)
    const buckets = ids.map(trafficBucket)
    expect(Math.min(...buckets)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...buckets)).toBeLessThan(10_000)
  })
})

describe('placement', () => {
  const endpoints = ['a:1', 'b:1', 'c:1', 'd:1']

  it('puts a version on every model server by default, or on a stable subset', () => {
    expect(placeVersion(endpoints, 'movies', 1, 0)).toEqual(endpoints)
    const two = placeVersion(endpoints, 'movies', 1, 2)
    expect(two).toHaveLength(2)
    expect(placeVersion([...endpoints].reverse(), 'movies', 1, 2).sort()).toEqual([...two].sort())
  })

  it('moves only the versions of a removed model server', () => {
    const before = new Map<number, string[]>()
    for (let v = 1; v <= 200; v++) before.set(v, placeVersion(endpoints, 'm', v, 1))
    let moved = 0
    for (let v = 1; v <= 200; v++) {
      const after = placeVersion(endpoints.slice(0, 3), 'm', v, 1)
      if (after[0] !== before.get(v)![0]) {
        moved++
        expect(before.get(v)![0]).toBe('d:1')
      }
    }
    expect(moved).toBeGreaterThan(0)
  })
})

describe('caller labels', () => {
  it('labels the heaviest callers by name and everyone else as other, with a bounded label set', () => {
    const labels = new CallerLabels(2)
    const seen = new Set<string>()
    for (let round = 0; round < 50; round++) {
      seen.add(labels.labelFor('heavy-1'))
      seen.add(labels.labelFor('heavy-2'))
      seen.add(labels.labelFor(`once-${round}`))
    }
    expect(seen.has('heavy-1')).toBe(true)
    expect(seen.has('heavy-2')).toBe(true)
    expect(seen.has(OTHER_CALLER)).toBe(true)
    expect(seen.size).toBeLessThanOrEqual(2 * 2 + 1)
    for (let i = 0; i < 10_000; i++) seen.add(labels.labelFor(`user-${i % 500}`))
    expect(seen.size).toBeLessThanOrEqual(2 * 2 + 1)
  })

  it('labels nobody when top is 0', () => {
    expect(new CallerLabels(0).labelFor('alice')).toBe(OTHER_CALLER)
  })
})
