import Type, { type Static, type TSchema } from 'typebox'
import { TENSOR_DATATYPES } from '@argmax/contracts'
import { IdempotencyKeyHeaders, Nullable, StringEnum, defineRoutes } from '@argmax/http/contract'
import {
  ListRolloutsQuery,
  OperateRolloutBody,
  RolloutDetails,
  RolloutIdParams,
  RolloutView,
  StartRolloutBody,
} from './rollouts.contract.ts'

/**
 * The registry API, declared once: fastify validates requests and serialises answers with these
 * schemas, /docs shows them, handlers are type-checked against them, and the typed client
 * (`@argmax/registry-service/client`) is derived from them. Clients import this file: it must
 * stay free of server code (only TypeBox and the published contracts).
 */

// ── Requests ────────────────────────────────────────────────────────────────────────────────

/** Model names become `/v2/models/{name}` and NATS subject tokens (MODEL_NAME_PATTERN). */
export const ModelName = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{0,62}$',
  description: '1–63 lower-case letters, digits and -, starting with a letter or digit',
})
/** A version number (`3`) or an alias (`champion`, `latest`, `challenger`). */
export const VersionRefParam = Type.String({
  pattern: '^([1-9][0-9]{0,9}|[a-z][a-z0-9-]{0,62})$',
  description: 'a version number or an alias',
})
export const AliasName = Type.String({
  pattern: '^[a-z][a-z0-9-]{0,62}$',
  description: 'lower-case letters, digits and -, starting with a letter',
})
const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })
const VersionNumber = Type.Integer({ minimum: 1, maximum: 2_147_483_647 })
const Task = StringEnum(['regression', 'classification'] as const)

export const ModelParams = Type.Object({ name: ModelName })
export const VersionParams = Type.Object({ name: ModelName, version: VersionRefParam })
export const AliasParams = Type.Object({ name: ModelName, alias: AliasName })
export const UploadParams = Type.Object({ name: ModelName, uploadId: Id })

/** Read-your-writes: wait until the read model has applied this stream position. */
const minPosition = Type.Optional(
  Type.Integer({ minimum: 0, description: 'wait for this stream position' }),
)
export const ReadQuery = Type.Object({ minPosition }, { additionalProperties: false })

const Tags = Type.Array(Type.String({ maxLength: 63 }), { maxItems: 20 })
const Description = Type.String({ maxLength: 10_000 })

export const CreateModelBody = Type.Object(
  {
    name: ModelName,
    description: Type.Optional(Description),
    tags: Type.Optional(Tags),
    task: Type.Optional(Task),
  },
  { additionalProperties: false },
)

export const UpdateModelBody = Type.Object(
  {
    description: Type.Optional(Description),
    tags: Type.Optional(Tags),
    task: Type.Optional(Task),
  },
  { additionalProperties: false, minProperties: 1 },
)

export const DEFAULT_PAGE_SIZE = 50

export const ListModelsQuery = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 63, description: 'names containing this' })),
    tag: Type.Optional(Type.String({ maxLength: 63 })),
    includeDeleted: Type.Optional(Type.Boolean({ default: false })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: DEFAULT_PAGE_SIZE })),
    minPosition,
  },
  { additionalProperties: false },
)

export const ListVersionsQuery = Type.Object(
  {
    compare: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_.:/-]{1,100}$',
        description: 'a metric (rmse, r2, accuracy …): versions sorted by it, best first',
      }),
    ),
    order: Type.Optional(
      StringEnum(['asc', 'desc'] as const, {
        description:
          'sort order for compare (default: ascending for errors and losses — names with rmse, mae, mse, loss, error — descending otherwise)',
      }),
    ),
    includeDeleted: Type.Optional(Type.Boolean({ default: false })),
    minPosition,
  },
  { additionalProperties: false },
)

export const TensorSpecSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 1024 }),
    datatype: StringEnum(TENSOR_DATATYPES),
    shape: Type.Array(Type.Integer({ minimum: -1 }), { minItems: 1, maxItems: 8 }),
    nullable: Type.Boolean(),
    column: Type.Optional(Type.String({ maxLength: 1024 })),
    categories: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 100_000 })),
  },
  { additionalProperties: false },
)

/** `ModelSignature` of @argmax/contracts: what the version takes and gives. */
export const SignatureSchema = Type.Object(
  {
    task: Task,
    inputs: Type.Array(TensorSpecSchema, { minItems: 1, maxItems: 10_000 }),
    outputs: Type.Array(TensorSpecSchema, { minItems: 1, maxItems: 100 }),
    classes: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 100_000 })),
  },
  { additionalProperties: false },
)

const Metrics = Type.Record(Type.String({ maxLength: 100 }), Type.Number(), {
  maxProperties: 200,
})
const JsonObject = Type.Record(Type.String(), Type.Unknown())

export const StartUploadBody = Type.Object(
  {
    signature: SignatureSchema,
    // No maximum here: a size over the limit is answered 413, not 400.
    size: Type.Integer({ minimum: 1, description: 'bytes of model.onnx' }),
    sha256: Type.Optional(
      Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'checked on completion' }),
    ),
    metrics: Type.Optional(Metrics),
    params: Type.Optional(JsonObject),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
)

export const AnnotateBody = Type.Object(
  {
    kind: Type.Optional(
      Type.String({ pattern: '^[a-z][a-z0-9_-]{0,62}$', description: 'e.g. note (default)' }),
    ),
    text: Type.String({ minLength: 1, maxLength: 10_000 }),
    data: Type.Optional(JsonObject),
  },
  { additionalProperties: false },
)

export const SetAliasBody = Type.Object({ version: VersionNumber }, { additionalProperties: false })

export const ReleaseSchema = Type.Object(
  {
    stable: VersionNumber,
    canary: Type.Optional(
      Type.Object(
        {
          version: VersionNumber,
          percent: Type.Number({ minimum: 0, maximum: 100, description: 'share of traffic, %' }),
        },
        { additionalProperties: false },
      ),
    ),
    shadow: Type.Optional(VersionNumber),
  },
  { additionalProperties: false },
)

export const SetReleaseBody = Type.Object(
  {
    stable: VersionNumber,
    canary: Type.Optional(ReleaseSchema.properties.canary),
    shadow: Type.Optional(VersionNumber),
    reason: Type.String({ minLength: 1, maxLength: 2000, description: 'why (recorded)' }),
    breaking: Type.Optional(
      Type.Boolean({ description: 'release even though the inputs or outputs change' }),
    ),
  },
  { additionalProperties: false },
)

export const RollbackBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
)

export const HistoryQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    minPosition,
  },
  { additionalProperties: false },
)

// ── Answers ─────────────────────────────────────────────────────────────────────────────────

const Timestamp = Type.String({ description: 'ISO-8601, UTC' })
/** A stream sequence: what a query's `minPosition` takes to see this write. */
const Position = Type.Integer({ minimum: 0 })

export const StoredObjectSchema = Type.Object({
  uri: Type.String({ description: 's3://bucket/key' }),
  sha256: Type.String(),
  size: Type.Integer(),
})

export const ModelView = Type.Object({
  name: Type.String(),
  ownerId: Type.String(),
  task: Nullable(Task),
  description: Type.String(),
  tags: Type.Array(Type.String()),
  origin: StringEnum(['user', 'training'] as const),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  deletedAt: Nullable(Timestamp),
  versionCount: Type.Integer({ description: 'versions registered and not purged' }),
  latestVersion: Nullable(Type.Integer()),
  release: Nullable(ReleaseSchema),
  /** Every alias → version, `champion` (the release's stable) and `latest` included. */
  aliases: Type.Record(Type.String(), Type.Integer()),
})

export const RefusedRun = Type.Object({
  runId: Type.String(),
  attempt: Type.Integer(),
  ownerId: Type.String(),
  reason: Type.String(),
  message: Type.String(),
  refusedAt: Timestamp,
})

export const ModelDetails = Type.Object({
  ...ModelView.properties,
  /** Training runs that ended READY for this name but were not registered, newest first. */
  refusedRuns: Type.Array(RefusedRun),
})

const VersionSourceSchema = Type.Object({
  kind: StringEnum(['training', 'upload'] as const),
  runId: Type.Optional(Type.String()),
  attempt: Type.Optional(Type.Integer()),
  uploadId: Type.Optional(Type.String()),
})

const Lineage = Type.Object({
  datasetId: Type.Optional(Type.String()),
  datasetVersionId: Type.Optional(Type.String()),
  datasetSha256: Type.Optional(Type.String()),
  extraDatasets: Type.Optional(
    Type.Array(
      Type.Object({ datasetId: Type.String(), versionId: Type.String(), sha256: Type.String() }),
      { description: 'dataset versions read after datasetVersionId as one table' },
    ),
  ),
  runId: Type.Optional(Type.String()),
  attempt: Type.Optional(Type.Integer()),
})

const Served = StringEnum(['stable', 'canary', 'shadow'] as const)

export const VersionView = Type.Object({
  model: Type.String(),
  version: Type.Integer(),
  status: StringEnum(['active', 'deleted'] as const),
  ownerId: Type.String(),
  task: Task,
  source: VersionSourceSchema,
  artifact: StoredObjectSchema,
  signatureRef: StoredObjectSchema,
  artifacts: Type.Record(Type.String(), StoredObjectSchema),
  metrics: Type.Record(Type.String(), Type.Number()),
  params: Nullable(JsonObject),
  paramsOmitted: Type.Boolean({ description: 'too large to keep inline: see reproducibility' }),
  trainer: Nullable(
    Type.Object({
      name: Type.String(),
      image: Type.Optional(Type.String()),
      codeVersion: Type.String(),
    }),
  ),
  libraries: Nullable(Type.Record(Type.String(), Type.String())),
  target: Nullable(Type.String()),
  seed: Nullable(Type.Integer()),
  description: Nullable(Type.String()),
  lineage: Lineage,
  registeredAt: Timestamp,
  registeredBy: Type.String(),
  deletedAt: Nullable(Timestamp),
  aliases: Type.Array(Type.String()),
  /** The parts of the current release this version serves. */
  served: Type.Array(Served),
})

export const Annotation = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  text: Type.String(),
  data: Nullable(JsonObject),
  annotatedAt: Timestamp,
  annotatedBy: Type.String(),
})

export const VersionDetails = Type.Object({
  ...VersionView.properties,
  signature: SignatureSchema,
  annotations: Type.Array(Annotation),
})

export const VersionList = Type.Object({
  items: Type.Array(VersionView),
  /** Every metric any listed version has: the columns of a comparison. */
  metrics: Type.Array(Type.String()),
  compare: Nullable(
    Type.Object({
      metric: Type.String(),
      order: StringEnum(['asc', 'desc'] as const),
      /** Versions without the metric, listed last. */
      missing: Type.Array(Type.Integer()),
    }),
  ),
})

export const AliasView = Type.Object({
  alias: Type.String(),
  version: Type.Integer(),
  /** `champion` and `latest` are computed, never set. */
  computed: Type.Boolean(),
  updatedAt: Nullable(Timestamp),
  updatedBy: Nullable(Type.String()),
})

export const AliasHistoryEntry = Type.Object({
  sequence: Type.Integer(),
  alias: Type.String(),
  version: Nullable(Type.Integer({ description: 'null: removed' })),
  previous: Nullable(Type.Integer()),
  reason: Type.String({ description: 'set, removed, version_deleted; champion: a release kind' }),
  at: Timestamp,
  actor: Type.String(),
})

export const ReleaseView = Type.Object({
  model: Type.String(),
  release: Nullable(ReleaseSchema),
  /** The REGISTRY stream sequence of the change that made it (0: never released). */
  sequence: Type.Integer(),
  kind: Nullable(StringEnum(['set', 'rollback', 'bootstrap', 'model_deleted'] as const)),
  reason: Nullable(Type.String()),
  changedAt: Nullable(Timestamp),
  changedBy: Nullable(Type.String()),
})

export const ReleaseChange = Type.Object({
  sequence: Type.Integer(),
  release: Nullable(ReleaseSchema),
  previous: Nullable(ReleaseSchema),
  kind: StringEnum(['set', 'rollback', 'bootstrap', 'model_deleted'] as const),
  reason: Type.String(),
  breaking: Type.Boolean(),
  changedAt: Timestamp,
  changedBy: Type.String(),
})

export const UploadView = Type.Object({
  uploadId: Type.String(),
  model: Type.String(),
  status: StringEnum(['STARTED', 'COMPLETED', 'ABORTED'] as const),
  ownerId: Type.String(),
  size: Type.Integer(),
  sha256: Nullable(Type.String()),
  signatureRef: StoredObjectSchema,
  version: Nullable(Type.Integer()),
  startedAt: Timestamp,
  position: Position,
})

/**
 * A version's lineage as a tree, root first: dataset → dataset version (with its SHA-256) →
 * training run → attempt → model version, or upload → model version. Fixed depth (5), so the
 * schema needs no recursion.
 */
function lineageNode<Child extends TSchema>(child: Child) {
  return Type.Object({
    kind: StringEnum([
      'dataset',
      'dataset_version',
      'run',
      'attempt',
      'upload',
      'model_version',
    ] as const),
    id: Type.String(),
    label: Type.String(),
    attributes: Type.Record(Type.String(), Nullable(Type.Union([Type.String(), Type.Number()]))),
    children: Type.Array(child),
  })
}
const LineageLeaf = lineageNode(Type.Object({}, { additionalProperties: false }))
const Lineage4 = lineageNode(LineageLeaf)
const Lineage3 = lineageNode(Lineage4)
const Lineage2 = lineageNode(Lineage3)
export const LineageTree = lineageNode(Lineage2)

const Written = { position: Position }

// ── Routes ──────────────────────────────────────────────────────────────────────────────────

const models = ['models']
const versions = ['versions']
const uploads = ['uploads']
const aliases = ['aliases']
const releases = ['releases']
const rollouts = ['rollouts']
/** A declared signature lists every input's categories: it may be megabytes. */
const SIGNATURE_BODY_LIMIT = 8 * 1024 * 1024

export const registryRoutes = defineRoutes({
  createModel: {
    method: 'POST',
    url: '/v1/models',
    retry: 'idempotency-key',
    schema: {
      tags: models,
      summary: 'Create a model (its name is unique and becomes /v2/models/{name})',
      headers: IdempotencyKeyHeaders,
      body: CreateModelBody,
      response: { 201: Type.Object({ ...Written, model: ModelView }) },
    },
  },
  listModels: {
    method: 'GET',
    url: '/v1/models',
    schema: {
      tags: models,
      summary: 'The models you can see, newest first',
      querystring: ListModelsQuery,
      response: {
        200: Type.Object({ items: Type.Array(ModelView), nextCursor: Nullable(Type.String()) }),
      },
    },
  },
  getModel: {
    method: 'GET',
    url: '/v1/models/:name',
    schema: {
      tags: models,
      summary: 'A model with its release and aliases',
      params: ModelParams,
      querystring: ReadQuery,
      response: { 200: ModelDetails },
    },
  },
  updateModel: {
    method: 'PATCH',
    url: '/v1/models/:name',
    retry: 'safe',
    schema: {
      tags: models,
      summary: "Change a model's description, tags or task",
      params: ModelParams,
      body: UpdateModelBody,
      response: { 200: Type.Object({ ...Written, model: ModelView }) },
    },
  },
  deleteModel: {
    method: 'DELETE',
    url: '/v1/models/:name',
    schema: {
      tags: models,
      summary:
        'Delete a model (soft: restorable; it stops serving; purged after the retention period)',
      params: ModelParams,
      response: {
        200: Type.Object({ ...Written, name: Type.String(), deletedAt: Nullable(Timestamp) }),
      },
    },
  },
  restoreModel: {
    method: 'POST',
    url: '/v1/models/:name/restore',
    retry: 'safe',
    schema: {
      tags: models,
      summary: 'Restore a deleted model (its release stays empty: roll back to serve again)',
      params: ModelParams,
      response: { 200: Type.Object({ ...Written, model: ModelView }) },
    },
  },
  listVersions: {
    method: 'GET',
    url: '/v1/models/:name/versions',
    largeAnswers: true,
    schema: {
      tags: versions,
      summary: "A model's versions with their metrics (newest first, or compared by a metric)",
      params: ModelParams,
      querystring: ListVersionsQuery,
      response: { 200: VersionList },
    },
  },
  getVersion: {
    method: 'GET',
    url: '/v1/models/:name/versions/:version',
    largeAnswers: true,
    schema: {
      tags: versions,
      summary: 'A version by number or alias: artifact, signature, metrics, lineage, annotations',
      params: VersionParams,
      querystring: ReadQuery,
      response: { 200: VersionDetails },
    },
  },
  getLineage: {
    method: 'GET',
    url: '/v1/models/:name/versions/:version/lineage',
    schema: {
      tags: versions,
      summary: "A version's lineage as a tree: dataset → dataset version → run → attempt → version",
      params: VersionParams,
      querystring: ReadQuery,
      response: {
        200: Type.Object({ model: Type.String(), version: Type.Integer(), root: LineageTree }),
      },
    },
  },
  deleteVersion: {
    method: 'DELETE',
    url: '/v1/models/:name/versions/:version',
    schema: {
      tags: versions,
      summary: 'Delete a version (soft; refused while a release serves it)',
      params: VersionParams,
      response: {
        200: Type.Object({ ...Written, version: Type.Integer(), deletedAt: Nullable(Timestamp) }),
      },
    },
  },
  restoreVersion: {
    method: 'POST',
    url: '/v1/models/:name/versions/:version/restore',
    retry: 'safe',
    schema: {
      tags: versions,
      summary: 'Restore a deleted version',
      params: VersionParams,
      response: { 200: Type.Object({ ...Written, version: Type.Integer() }) },
    },
  },
  annotateVersion: {
    method: 'POST',
    url: '/v1/models/:name/versions/:version/annotations',
    retry: 'idempotency-key',
    schema: {
      tags: versions,
      summary: 'Record what was learned about a version (versions never change)',
      headers: IdempotencyKeyHeaders,
      params: VersionParams,
      body: AnnotateBody,
      response: { 201: Type.Object({ ...Written, annotation: Annotation }) },
    },
  },
  startUpload: {
    method: 'POST',
    url: '/v1/models/:name/uploads',
    retry: 'idempotency-key',
    bodyLimit: SIGNATURE_BODY_LIMIT,
    schema: {
      tags: uploads,
      summary:
        'Register a version by hand: declare the signature, get a presigned PUT for model.onnx',
      headers: IdempotencyKeyHeaders,
      params: ModelParams,
      body: StartUploadBody,
      response: {
        201: Type.Object({
          upload: UploadView,
          url: Type.String({ description: 'PUT model.onnx here (exactly `size` bytes)' }),
          expiresInSeconds: Type.Integer(),
        }),
      },
    },
  },
  getUpload: {
    method: 'GET',
    url: '/v1/models/:name/uploads/:uploadId',
    schema: {
      tags: uploads,
      summary: "An upload's status (and the version it registered)",
      params: UploadParams,
      response: { 200: UploadView },
    },
  },
  completeUpload: {
    method: 'POST',
    url: '/v1/models/:name/uploads/:uploadId/complete',
    retry: 'safe',
    schema: {
      tags: uploads,
      summary:
        'Check the uploaded file (loads in ONNX Runtime, matches the declared signature) and register it',
      params: UploadParams,
      response: { 201: Type.Object({ ...Written, version: VersionView }) },
    },
  },
  abortUpload: {
    method: 'DELETE',
    url: '/v1/models/:name/uploads/:uploadId',
    schema: {
      tags: uploads,
      summary: 'Abort an upload (its file is deleted)',
      params: UploadParams,
      response: { 200: UploadView },
    },
  },
  listAliases: {
    method: 'GET',
    url: '/v1/models/:name/aliases',
    schema: {
      tags: aliases,
      summary: "A model's aliases, champion and latest included",
      params: ModelParams,
      querystring: ReadQuery,
      response: { 200: Type.Object({ items: Type.Array(AliasView) }) },
    },
  },
  setAlias: {
    method: 'PUT',
    url: '/v1/models/:name/aliases/:alias',
    schema: {
      tags: aliases,
      summary: 'Point an alias at a version (moved atomically; champion is reserved)',
      params: AliasParams,
      body: SetAliasBody,
      response: { 200: Type.Object({ ...Written, alias: AliasView }) },
    },
  },
  removeAlias: {
    method: 'DELETE',
    url: '/v1/models/:name/aliases/:alias',
    schema: {
      tags: aliases,
      summary: 'Remove an alias',
      params: AliasParams,
      response: { 200: Type.Object({ ...Written, alias: Type.String() }) },
    },
  },
  aliasHistory: {
    method: 'GET',
    url: '/v1/models/:name/aliases/:alias/history',
    schema: {
      tags: aliases,
      summary: "Every move of an alias, newest first (champion's is the release history)",
      params: AliasParams,
      querystring: HistoryQuery,
      response: { 200: Type.Object({ items: Type.Array(AliasHistoryEntry) }) },
    },
  },
  getRelease: {
    method: 'GET',
    url: '/v1/models/:name/release',
    schema: {
      tags: releases,
      summary: 'What serves the model now',
      params: ModelParams,
      querystring: ReadQuery,
      response: { 200: ReleaseView },
    },
  },
  setRelease: {
    method: 'PUT',
    url: '/v1/models/:name/release',
    schema: {
      tags: releases,
      summary: 'Release: the stable version, an optional canary with its share, an optional shadow',
      params: ModelParams,
      body: SetReleaseBody,
      response: { 200: Type.Object({ ...Written, release: ReleaseView }) },
    },
  },
  listReleases: {
    method: 'GET',
    url: '/v1/models/:name/releases',
    schema: {
      tags: releases,
      summary: 'The release history, newest first: who changed what, when and why',
      params: ModelParams,
      querystring: HistoryQuery,
      response: { 200: Type.Object({ items: Type.Array(ReleaseChange) }) },
    },
  },
  rollbackRelease: {
    method: 'POST',
    url: '/v1/models/:name/release/rollback',
    schema: {
      tags: releases,
      summary: 'Restore the previous release exactly (one step per call)',
      params: ModelParams,
      body: RollbackBody,
      response: { 200: Type.Object({ ...Written, release: ReleaseView }) },
    },
  },
  startRollout: {
    method: 'POST',
    url: '/v1/rollouts',
    retry: 'idempotency-key',
    schema: {
      tags: rollouts,
      summary:
        "Start a canary rollout of a version against the model's stable one (steps judged on live signals)",
      headers: IdempotencyKeyHeaders,
      body: StartRolloutBody,
      response: { 201: Type.Object({ ...Written, rollout: RolloutView }) },
    },
  },
  listRollouts: {
    method: 'GET',
    url: '/v1/rollouts',
    schema: {
      tags: rollouts,
      summary: 'Rollouts you can see, newest first',
      querystring: ListRolloutsQuery,
      response: { 200: Type.Object({ items: Type.Array(RolloutView) }) },
    },
  },
  getRollout: {
    method: 'GET',
    url: '/v1/rollouts/:id',
    schema: {
      tags: rollouts,
      summary: 'A rollout with its timeline: every decision with its evidence',
      params: RolloutIdParams,
      response: { 200: RolloutDetails },
    },
  },
  pauseRollout: {
    method: 'POST',
    url: '/v1/rollouts/:id/pause',
    schema: {
      tags: rollouts,
      summary: 'Pause: the step stays, its window starts again at the resume (admin)',
      params: RolloutIdParams,
      body: OperateRolloutBody,
      response: { 200: Type.Object({ ...Written, rollout: RolloutView }) },
    },
  },
  resumeRollout: {
    method: 'POST',
    url: '/v1/rollouts/:id/resume',
    schema: {
      tags: rollouts,
      summary: 'Resume a paused rollout (admin)',
      params: RolloutIdParams,
      body: OperateRolloutBody,
      response: { 200: Type.Object({ ...Written, rollout: RolloutView }) },
    },
  },
  approveRollout: {
    method: 'POST',
    url: '/v1/rollouts/:id/approve',
    schema: {
      tags: rollouts,
      summary: 'Approve the next step, or the promotion, after a passing step (admin)',
      params: RolloutIdParams,
      body: OperateRolloutBody,
      response: { 200: Type.Object({ ...Written, rollout: RolloutView }) },
    },
  },
  abortRollout: {
    method: 'POST',
    url: '/v1/rollouts/:id/abort',
    schema: {
      tags: rollouts,
      summary:
        'Abort: the canary is removed, the stable unchanged, no verdict on the candidate (admin)',
      params: RolloutIdParams,
      body: OperateRolloutBody,
      response: { 200: Type.Object({ ...Written, rollout: RolloutView }) },
    },
  },
  rollbackRollout: {
    method: 'POST',
    url: '/v1/rollouts/:id/rollback',
    schema: {
      tags: rollouts,
      summary:
        'Roll back: the canary removed (or, once promoted, the old stable restored) and the candidate annotated as rejected (admin)',
      params: RolloutIdParams,
      body: OperateRolloutBody,
      response: { 200: Type.Object({ ...Written, rollout: RolloutView }) },
    },
  },
})

export type RegistryRoutes = typeof registryRoutes
export type ModelView = Static<typeof ModelView>
export type ModelDetails = Static<typeof ModelDetails>
export type RefusedRun = Static<typeof RefusedRun>
export type VersionView = Static<typeof VersionView>
export type VersionDetails = Static<typeof VersionDetails>
export type VersionList = Static<typeof VersionList>
export type Annotation = Static<typeof Annotation>
export type AliasView = Static<typeof AliasView>
export type AliasHistoryEntry = Static<typeof AliasHistoryEntry>
export type ReleaseView = Static<typeof ReleaseView>
export type ReleaseChange = Static<typeof ReleaseChange>
export type UploadView = Static<typeof UploadView>
export type LineageTree = Static<typeof LineageTree>
export type LineageNodeKind = LineageTree['kind']
export type CreateModelInput = Static<typeof CreateModelBody>
export type UpdateModelInput = Static<typeof UpdateModelBody>
export type StartUploadInput = Static<typeof StartUploadBody>
export type SetReleaseInput = Static<typeof SetReleaseBody>
export type AnnotateInput = Static<typeof AnnotateBody>
export type {
  RolloutDetails,
  RolloutTimelineEntry,
  RolloutView,
  StartRolloutInput,
} from './rollouts.contract.ts'
