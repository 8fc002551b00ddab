import {
  IdempotencyKeyReusedError,
  IllegalStateError,
  NotFoundError,
  ValidationError,
} from '@argmax/errors'
import { deciderSpec } from '@argmax/events'
import { describe, expect, it } from 'vitest'
import {
  latestVersion,
  modelDecider,
  sourceDecisionEventId,
  type ModelEvent,
  type VersionRegistration,
} from '../../src/domain/index.ts'

const now = new Date('2026-03-01T12:00:00.000Z')
const DAY = 24 * 3600 * 1000
const models = deciderSpec(modelDecider)

const created: ModelEvent = {
  type: 'ModelCreated',
  data: {
    model: 'movies',
    ownerId: 'alice',
    task: 'regression',
    description: '',
    tags: [],
    origin: 'user',
    createdAt: '2026-02-01T00:00:00.000Z',
  },
}

const object = (key: string) => ({
  uri: `s3://argmax-models/${key}`,
  sha256: 'a'.repeat(64),
  size: 10,
})

function registration(runId: string): VersionRegistration {
  return {
    task: 'regression',
    artifact: object(`runs/${runId}/attempts/1/model.onnx`),
    signature: object(`runs/${runId}/attempts/1/schema.json`),
    artifacts: { model: object(`runs/${runId}/attempts/1/model.onnx`) },
    metrics: { rmse: 0.9 },
    source: { kind: 'training', runId, attempt: 1 },
    lineage: {
      datasetId: 'd1',
      datasetVersionId: 'dv1',
      datasetSha256: 'b'.repeat(64),
      runId,
      attempt: 1,
    },
  }
}

function registered(version: number, runId: string): ModelEvent {
  const r = registration(runId)
  return {
    id: sourceDecisionEventId('movies', `run:${runId}`),
    type: 'ModelVersionRegistered',
    data: {
      model: 'movies',
      version,
      ownerId: 'alice',
      task: r.task,
      artifact: r.artifact,
      signature: r.signature,
      artifacts: r.artifacts,
      metrics: r.metrics,
      source: r.source,
      lineage: r.lineage,
      registeredAt: now.toISOString(),
    },
  }
}

const runCommand = (runId: string, runOwnerId = 'alice') => ({
  type: 'RegisterRunVersion' as const,
  data: { model: 'movies', runId, attempt: 1, runOwnerId, registration: registration(runId), now },
})

describe('model decider: versions from training runs', () => {
  it('numbers versions 1, 2, 3 per model', () => {
    models
      .given([created])
      .when(runCommand('r1'))
      .then([registered(1, 'r1')])
    models
      .given([created, registered(1, 'r1')])
      .when(runCommand('r2'))
      .then([registered(2, 'r2')])
  })

  it('registers a run exactly once: a second delivery decides nothing', () => {
    models
      .given([created, registered(1, 'r1')])
      .when(runCommand('r1'))
      .then([])
  })

  it('creates the model for the run owner on first use', () => {
    const events = modelDecider.decide(runCommand('r1', 'alice'), modelDecider.initialState)
    expect(events.map((e) => e.type)).toEqual(['ModelCreated', 'ModelVersionRegistered'])
    expect(events[0]!.data).toMatchObject({ model: 'movies', ownerId: 'alice', origin: 'training' })
    expect(events[1]!.data).toMatchObject({ version: 1, ownerId: 'alice' })
  })

  it("refuses a run of another user's model, once, and records why", () => {
    const [refusal] = modelDecider.decide(
      runCommand('r9', 'mallory'),
      [created].reduce(modelDecider.evolve, modelDecider.initialState),
    )
    expect(refusal).toMatchObject({
      type: 'ModelVersionRegistrationRefused',
      data: { model: 'movies', runId: 'r9', ownerId: 'mallory', reason: 'not_owner' },
    })
    models.given([created, refusal!]).when(runCommand('r9', 'mallory')).then([])
  })

  it('refuses a run for a deleted model', () => {
    const deleted: ModelEvent = {
      type: 'ModelDeleted',
      data: { model: 'movies', deletedAt: now.toISOString() },
    }
    const [refusal] = modelDecider.decide(
      runCommand('r1'),
      [created, deleted].reduce(modelDecider.evolve, modelDecider.initialState),
    )
    expect(refusal).toMatchObject({ data: { reason: 'model_deleted' } })
  })

  it('a queued run of someone else changes nothing; of a new name creates it', () => {
    models
      .given([created])
      .when({
        type: 'EnsureModelForRun',
        data: { model: 'movies', runId: 'r1', ownerId: 'mallory', task: 'regression', now },
      })
      .then([])
    const [event] = modelDecider.decide(
      {
        type: 'EnsureModelForRun',
        data: { model: 'movies', runId: 'r1', ownerId: 'bob', task: 'classification', now },
      },
      modelDecider.initialState,
    )
    expect(event).toMatchObject({
      type: 'ModelCreated',
      data: { ownerId: 'bob', origin: 'training', runId: 'r1' },
    })
  })
})

describe('model decider: the model', () => {
  it('creates with sorted unique tags; the same request under the same key is answered', () => {
    const command = {
      type: 'CreateModel' as const,
      data: {
        model: 'movies',
        ownerId: 'alice',
        description: 'd',
        tags: ['b', 'a', 'b'],
        now,
        idempotencyId: 'k1',
        requestHash: 'h1',
      },
    }
    const [event] = modelDecider.decide(command, modelDecider.initialState)
    expect(event!.data).toMatchObject({ tags: ['a', 'b'], origin: 'user', requestHash: 'h1' })
    models.given([event!]).when(command).then([])
    models
      .given([event!])
      .when({ ...command, data: { ...command.data, requestHash: 'h2' } })
      .thenThrows(IdempotencyKeyReusedError)
    models
      .given([event!])
      .when({ ...command, data: { ...command.data, idempotencyId: 'k2', ownerId: 'bob' } })
      .thenThrows(IllegalStateError, 'already exists')
  })

  it('refuses bad tags naming the field', () => {
    models
      .given([])
      .when({
        type: 'CreateModel',
        data: { model: 'movies', ownerId: 'a', description: '', tags: ['ok', ' bad'], now },
      })
      .thenThrows(ValidationError, 'tags/1')
  })

  it('soft deletes, restores, and purges only after the retention', () => {
    const deleted: ModelEvent = {
      type: 'ModelDeleted',
      data: { model: 'movies', deletedAt: now.toISOString() },
    }
    models
      .given([created, deleted])
      .when({ type: 'DeleteModel', data: { model: 'movies', now } })
      .then([])
    models
      .given([created, deleted])
      .when({ type: 'RestoreModel', data: { model: 'movies', now } })
      .then([{ type: 'ModelRestored', data: { model: 'movies', restoredAt: now.toISOString() } }])
    const purge = (at: Date) => ({
      type: 'PurgeModel' as const,
      data: { model: 'movies', now: at, retentionMs: 90 * DAY, versions: [1], objectsDeleted: 3 },
    })
    models
      .given([created, deleted])
      .when(purge(new Date(now.getTime() + 89 * DAY)))
      .thenThrows(IllegalStateError, 'kept until')
    models
      .given([created, deleted])
      .when(purge(new Date(now.getTime() + 90 * DAY)))
      .then([
        {
          type: 'ModelPurged',
          data: {
            model: 'movies',
            purgedAt: new Date(now.getTime() + 90 * DAY).toISOString(),
            versions: [1],
            objectsDeleted: 3,
          },
        },
      ])
    models.given([created]).when(purge(now)).thenThrows(IllegalStateError, 'not deleted')
  })

  it('an update of a deleted model is a 409, of a missing one a 404', () => {
    models
      .given([
        created,
        { type: 'ModelDeleted', data: { model: 'movies', deletedAt: now.toISOString() } },
      ])
      .when({ type: 'UpdateModel', data: { model: 'movies', description: 'x', now } })
      .thenThrows(IllegalStateError, 'deleted')
    models
      .given([])
      .when({ type: 'UpdateModel', data: { model: 'movies', description: 'x', now } })
      .thenThrows(NotFoundError)
  })

  it('version numbers are never reused after a purge and a new model of the same name', () => {
    const history: ModelEvent[] = [
      created,
      registered(1, 'r1'),
      { type: 'ModelDeleted', data: { model: 'movies', deletedAt: now.toISOString() } },
      {
        type: 'ModelPurged',
        data: { model: 'movies', purgedAt: now.toISOString(), versions: [1], objectsDeleted: 2 },
      },
    ]
    const events = modelDecider.decide(
      runCommand('r2'),
      history.reduce(modelDecider.evolve, modelDecider.initialState),
    )
    expect(events.map((e) => e.type)).toEqual(['ModelCreated', 'ModelVersionRegistered'])
    expect(events[1]!.data).toMatchObject({ version: 2 })
    models.given(history).when(runCommand('r1')).then([])
  })
})

describe('model decider: versions and aliases', () => {
  const history = [created, registered(1, 'r1'), registered(2, 'r2')]

  it('moves an alias with its previous target; champion and latest are reserved', () => {
    const set = (alias: string, version: number) => ({
      type: 'SetAlias' as const,
      data: { model: 'movies', alias, version, now },
    })
    models
      .given(history)
      .when(set('challenger', 2))
      .then([
        {
          type: 'ModelAliasSet',
          data: {
            model: 'movies',
            alias: 'challenger',
            version: 2,
            previous: null,
            setAt: now.toISOString(),
          },
        },
      ])
    const moved = modelDecider.decide(
      set('challenger', 1),
      [
        ...history,
        {
          type: 'ModelAliasSet',
          data: {
            model: 'movies',
            alias: 'challenger',
            version: 2,
            previous: null,
            setAt: now.toISOString(),
          },
        } as ModelEvent,
      ].reduce(modelDecider.evolve, modelDecider.initialState),
    )
    expect(moved[0]!.data).toMatchObject({ version: 1, previous: 2 })
    models.given(history).when(set('champion', 1)).thenThrows(IllegalStateError, 'reserved')
    models.given(history).when(set('latest', 1)).thenThrows(IllegalStateError, 'reserved')
    models.given(history).when(set('9lives', 1)).thenThrows(ValidationError, 'alias')
    models.given(history).when(set('challenger', 7)).thenThrows(NotFoundError, 'movies/7')
  })

  it('refuses to delete a served version; deleting one removes its aliases', () => {
    const del = (version: number, served: number[]) => ({
      type: 'DeleteVersion' as const,
      data: { model: 'movies', version, served, now },
    })
    models
      .given(history)
      .when(del(2, [2]))
      .thenThrows(IllegalStateError, 'served by the current release')
    const withAlias: ModelEvent[] = [
      ...history,
      {
        type: 'ModelAliasSet',
        data: {
          model: 'movies',
          alias: 'challenger',
          version: 2,
          previous: null,
          setAt: now.toISOString(),
        },
      },
    ]
    models
      .given(withAlias)
      .when(del(2, [1]))
      .then([
        {
          type: 'ModelVersionDeleted',
          data: { model: 'movies', version: 2, deletedAt: now.toISOString() },
        },
        {
          type: 'ModelAliasRemoved',
          data: {
            model: 'movies',
            alias: 'challenger',
            previous: 2,
            reason: 'version_deleted',
            removedAt: now.toISOString(),
          },
        },
      ])
  })

  it('latest is the newest version not deleted', () => {
    const state = [
      ...history,
      {
        type: 'ModelVersionDeleted',
        data: { model: 'movies', version: 2, deletedAt: now.toISOString() },
      } as ModelEvent,
    ].reduce(modelDecider.evolve, modelDecider.initialState)
    expect(latestVersion(state)).toBe(1)
  })

  it('annotates a version; the same key and request again writes nothing', () => {
    const annotate = (requestHash: string) => ({
      type: 'AnnotateVersion' as const,
      data: {
        model: 'movies',
        version: 1,
        annotationId: 'a1',
        kind: 'note',
        text: 'looks good',
        now,
        requestHash,
      },
    })
    const [event] = modelDecider.decide(
      annotate('h'),
      history.reduce(modelDecider.evolve, modelDecider.initialState),
    )
    expect(event).toMatchObject({
      type: 'ModelVersionAnnotated',
      data: { version: 1, text: 'looks good' },
    })
    models
      .given([...history, event!])
      .when(annotate('h'))
      .then([])
    models
      .given([...history, event!])
      .when(annotate('other'))
      .thenThrows(IdempotencyKeyReusedError)
  })

  it('an uploaded file becomes one version, once', () => {
    const upload = {
      type: 'RegisterUploadedVersion' as const,
      data: {
        model: 'movies',
        uploadId: 'u1',
        registration: {
          ...registration('x'),
          source: { kind: 'upload' as const, uploadId: 'u1' },
          lineage: {},
        },
        now,
      },
    }
    const [event] = modelDecider.decide(
      upload,
      history.reduce(modelDecider.evolve, modelDecider.initialState),
    )
    expect(event).toMatchObject({
      data: { version: 3, ownerId: 'alice', source: { kind: 'upload', uploadId: 'u1' } },
    })
    models
      .given([...history, event!])
      .when(upload)
      .then([])
  })
})
