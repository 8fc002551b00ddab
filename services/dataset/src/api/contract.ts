import Type, { type Static } from 'typebox'
import { IdempotencyKeyHeaders, Nullable, StringEnum, defineRoutes } from '@argmax/http/contract'
import { DATASET_FORMATS } from '../domain/limits.ts'

/**
 * The dataset API, declared once: fastify validates requests and serialises answers with these
 * schemas, /docs shows them, handlers are type-checked against them, and the typed client
 * (`@argmax/dataset-service/client`) is derived from them. Clients import this file: it must
 * stay free of server code (only TypeBox and the pure domain limits).
 */

// ── Requests ────────────────────────────────────────────────────────────────────────────────

/** Ids end up in NATS subjects and S3 keys: no dots, slashes or wildcards. */
export const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })

export const DatasetParams = Type.Object({ datasetId: Id })
export const UploadParams = Type.Object({ datasetId: Id, uploadId: Id })
export const VersionParams = Type.Object({ datasetId: Id, versionId: Id })
const PartNumber = Type.Integer({ minimum: 1, maximum: 10_000 })
export const PartParams = Type.Object({ datasetId: Id, uploadId: Id, partNumber: PartNumber })

/** Read-your-writes: wait until the read model has applied this stream position. */
const minPosition = Type.Optional(
  Type.Integer({ minimum: 0, description: 'wait for this stream position' }),
)

const Tags = Type.Array(Type.String({ maxLength: 63 }), { maxItems: 20 })
const datasetFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 10_000 }),
  tags: Tags,
}

export const CreateDatasetBody = Type.Object(
  {
    name: datasetFields.name,
    description: Type.Optional(datasetFields.description),
    tags: Type.Optional(datasetFields.tags),
  },
  { additionalProperties: false },
)

export const UpdateDatasetBody = Type.Object(
  {
    name: Type.Optional(datasetFields.name),
    description: Type.Optional(datasetFields.description),
    tags: Type.Optional(datasetFields.tags),
  },
  { additionalProperties: false, minProperties: 1 },
)

export const DEFAULT_PAGE_SIZE = 50

export const ListDatasetsQuery = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    tag: Type.Optional(Type.String({ maxLength: 63 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: DEFAULT_PAGE_SIZE })),
    minPosition,
  },
  { additionalProperties: false },
)

export const StartUploadBody = Type.Object(
  {
    fileName: Type.String({ minLength: 1, maxLength: 1024 }),
    // No maximum here: a size over 2 GiB is answered 413, not 400 (see planUpload).
    size: Type.Integer({ minimum: 0 }),
    sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$' }),
    format: StringEnum(DATASET_FORMATS),
    partSize: Type.Optional(
      Type.Integer({ minimum: 5 * 1024 * 1024, maximum: 5 * 1024 * 1024 * 1024 }),
    ),
  },
  { additionalProperties: false },
)

export const PresignPartsBody = Type.Object(
  { partNumbers: Type.Array(PartNumber, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
)

const Etag = Type.String({ minLength: 1, maxLength: 200 })

export const UploadedPart = Type.Object(
  { partNumber: PartNumber, etag: Etag },
  { additionalProperties: false },
)

export const PartsBody = Type.Object(
  { parts: Type.Array(UploadedPart, { minItems: 1, maxItems: 10_000 }) },
  { additionalProperties: false },
)

export const RecordPartBody = Type.Object({ etag: Etag }, { additionalProperties: false })

export const VersionStatus = StringEnum([
  'UPLOADING',
  'VALIDATING',
  'VALIDATED',
  'REJECTED',
  'ABORTED',
] as const)

export const ListVersionsQuery = Type.Object(
  { status: Type.Optional(VersionStatus), minPosition },
  { additionalProperties: false },
)

export const VersionQuery = Type.Object({ minPosition }, { additionalProperties: false })

// ── Answers ─────────────────────────────────────────────────────────────────────────────────

const Timestamp = Type.String({ description: 'ISO-8601, UTC' })
/** A stream sequence: what a query's `minPosition` takes to see this write. */
const Position = Type.Integer({ minimum: 0 })

export const DatasetView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  tags: Type.Array(Type.String()),
  ownerId: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  deletedAt: Nullable(Timestamp),
  versionCount: Type.Integer(),
})

const ColumnType = StringEnum(['integer', 'float', 'boolean', 'timestamp', 'string'] as const)

/** The validator's schema of a file (see src/validation/validation.types.ts). */
export const ColumnSchema = Type.Object({
  name: Type.String(),
  type: ColumnType,
  nullable: Type.Boolean({ description: 'at least one row has no value' }),
  widenings: Type.Array(
    Type.Object({
      from: ColumnType,
      to: ColumnType,
      row: Type.Integer({ description: 'line of the first value that forced the widening' }),
      value: Type.String(),
    }),
  ),
})

/** The validator's profile of a column (see src/validation/validation.types.ts). */
export const ColumnProfile = Type.Object({
  name: Type.String(),
  type: ColumnType,
  count: Type.Integer({ description: 'rows with a value' }),
  nulls: Type.Integer(),
  distinct: Type.Integer({ description: 'HyperLogLog estimate (±1–2 %)' }),
  topValues: Type.Array(Type.Object({ value: Type.String(), count: Type.Integer() })),
  numeric: Type.Optional(
    Type.Object({
      min: Type.Number(),
      max: Type.Number(),
      mean: Type.Number(),
      std: Nullable(Type.Number()),
      histogram: Type.Array(
        Type.Object({ lower: Type.Number(), upper: Type.Number(), count: Type.Integer() }),
      ),
    }),
  ),
  timestamp: Type.Optional(Type.Object({ min: Timestamp, max: Timestamp })),
})

export const DatasetProfile = Type.Object({
  rowCount: Type.Integer(),
  columns: Type.Array(ColumnProfile),
})

export const VersionIssue = Type.Object({
  row: Type.Optional(Type.Integer({ description: '1-based line where the record starts' })),
  column: Type.Optional(Type.String()),
  code: Type.String({ description: 'e.g. ragged_row, sha256_mismatch, invalid_utf8' }),
  message: Type.String(),
})

/** What an upload declared, as its version and the upload itself show it. */
const declaredFile = {
  status: VersionStatus,
  fileName: Type.String(),
  format: StringEnum(DATASET_FORMATS),
  size: Type.Integer(),
  sha256: Type.String(),
  partSize: Type.Integer(),
  partCount: Type.Integer(),
}

export const VersionView = Type.Object({
  id: Type.String(),
  datasetId: Type.String(),
  number: Type.Integer({ description: '1, 2, 3… per dataset' }),
  ...declaredFile,
  rowCount: Nullable(Type.Integer()),
  schema: Nullable(Type.Array(ColumnSchema)),
  profile: Nullable(DatasetProfile),
  errors: Type.Array(VersionIssue),
  checksumMismatch: Type.Boolean(),
  createdAt: Timestamp,
  completedAt: Nullable(Timestamp),
  finishedAt: Nullable(Timestamp),
})

export const UploadView = Type.Object({
  uploadId: Type.String({ description: 'the id of the version the upload creates' }),
  versionId: Type.String(),
  datasetId: Type.String(),
  ...declaredFile,
  parts: Type.Array(Type.Object({ partNumber: Type.Integer(), etag: Type.String() })),
  position: Position,
})

const UploadOutcome = Type.Object({
  versionId: Type.String(),
  status: Nullable(VersionStatus),
  position: Position,
})

// ── Routes ──────────────────────────────────────────────────────────────────────────────────

const datasets = ['datasets']
const uploads = ['uploads']
const versions = ['versions']
/** Part lists of up to 10,000 ETags. */
const PART_LIST_BODY_LIMIT = 2 * 1024 * 1024

export const datasetRoutes = defineRoutes({
  createDataset: {
    method: 'POST',
    url: '/v1/datasets',
    retry: 'idempotency-key',
    schema: {
      tags: datasets,
      summary: 'Create a dataset',
      headers: IdempotencyKeyHeaders,
      body: CreateDatasetBody,
      response: {
        201: Type.Object({ id: Type.String(), position: Position, dataset: DatasetView }),
      },
    },
  },
  listDatasets: {
    method: 'GET',
    url: '/v1/datasets',
    schema: {
      tags: datasets,
      summary: 'List the datasets you can see, newest first',
      querystring: ListDatasetsQuery,
      response: {
        200: Type.Object({ items: Type.Array(DatasetView), nextCursor: Nullable(Type.String()) }),
      },
    },
  },
  getDataset: {
    method: 'GET',
    url: '/v1/datasets/:datasetId',
    schema: {
      tags: datasets,
      summary: 'Get a dataset',
      params: DatasetParams,
      querystring: VersionQuery,
      response: { 200: DatasetView },
    },
  },
  updateDataset: {
    method: 'PATCH',
    url: '/v1/datasets/:datasetId',
    retry: 'safe',
    schema: {
      tags: datasets,
      summary: "Change a dataset's name, description or tags",
      params: DatasetParams,
      body: UpdateDatasetBody,
      response: { 200: Type.Object({ position: Position, dataset: DatasetView }) },
    },
  },
  deleteDataset: {
    method: 'DELETE',
    url: '/v1/datasets/:datasetId',
    schema: {
      tags: datasets,
      summary: 'Delete a dataset (soft; files are purged after the retention period)',
      params: DatasetParams,
      response: {
        200: Type.Object({ id: Type.String(), deletedAt: Nullable(Timestamp), position: Position }),
      },
    },
  },
  startUpload: {
    method: 'POST',
    url: '/v1/datasets/:datasetId/uploads',
    retry: 'idempotency-key',
    schema: {
      tags: uploads,
      summary: 'Start uploading a file as a new version (≤ 2 GiB)',
      headers: IdempotencyKeyHeaders,
      params: DatasetParams,
      body: StartUploadBody,
      response: { 201: UploadView },
    },
  },
  getUpload: {
    method: 'GET',
    url: '/v1/datasets/:datasetId/uploads/:uploadId',
    schema: {
      tags: uploads,
      summary: "An upload's status and the parts recorded so far (to resume)",
      params: UploadParams,
      response: { 200: UploadView },
    },
  },
  presignParts: {
    method: 'POST',
    url: '/v1/datasets/:datasetId/uploads/:uploadId/parts',
    retry: 'safe',
    schema: {
      tags: uploads,
      summary: 'Presigned PUT URLs for a batch of parts',
      params: UploadParams,
      body: PresignPartsBody,
      response: {
        200: Type.Object({
          parts: Type.Array(Type.Object({ partNumber: Type.Integer(), url: Type.String() })),
          expiresInSeconds: Type.Integer(),
        }),
      },
    },
  },
  recordParts: {
    method: 'POST',
    url: '/v1/datasets/:datasetId/uploads/:uploadId/parts/recorded',
    retry: 'safe',
    bodyLimit: PART_LIST_BODY_LIMIT,
    schema: {
      tags: uploads,
      summary: 'Record stored parts with their ETags (a batch)',
      params: UploadParams,
      body: PartsBody,
      response: {
        200: Type.Object({
          position: Position,
          recorded: Type.Integer({ description: 'parts recorded so far' }),
        }),
      },
    },
  },
  recordPart: {
    method: 'POST',
    url: '/v1/datasets/:datasetId/uploads/:uploadId/parts/:partNumber/complete',
    retry: 'safe',
    schema: {
      tags: uploads,
      summary: 'Record one stored part with its ETag',
      params: PartParams,
      body: RecordPartBody,
      response: {
        200: Type.Object({ position: Position, recorded: Type.Integer() }),
      },
    },
  },
  completeUpload: {
    method: 'POST',
    url: '/v1/datasets/:datasetId/uploads/:uploadId/complete',
    retry: 'safe',
    bodyLimit: PART_LIST_BODY_LIMIT,
    schema: {
      tags: uploads,
      summary: 'Complete the upload with every part; validation starts',
      params: UploadParams,
      body: PartsBody,
      response: { 202: UploadOutcome },
    },
  },
  abortUpload: {
    method: 'DELETE',
    url: '/v1/datasets/:datasetId/uploads/:uploadId',
    schema: {
      tags: uploads,
      summary: 'Abort an upload in progress',
      params: UploadParams,
      response: { 200: UploadOutcome },
    },
  },
  listVersions: {
    method: 'GET',
    url: '/v1/datasets/:datasetId/versions',
    largeAnswers: true,
    schema: {
      tags: versions,
      summary: "A dataset's versions, newest first",
      params: DatasetParams,
      querystring: ListVersionsQuery,
      response: { 200: Type.Object({ items: Type.Array(VersionView) }) },
    },
  },
  getVersion: {
    method: 'GET',
    url: '/v1/datasets/:datasetId/versions/:versionId',
    largeAnswers: true,
    schema: {
      tags: versions,
      summary: 'A version: status, schema, profile, errors',
      params: VersionParams,
      querystring: VersionQuery,
      response: { 200: VersionView },
    },
  },
  downloadVersion: {
    method: 'GET',
    url: '/v1/datasets/:datasetId/versions/:versionId/download',
    schema: {
      tags: versions,
      summary: "A presigned URL for a validated version's file",
      params: VersionParams,
      response: {
        200: Type.Object({
          url: Type.String(),
          expiresInSeconds: Type.Integer(),
          fileName: Type.String(),
          size: Type.Integer(),
          sha256: Type.String(),
        }),
      },
    },
  },
})

export type DatasetRoutes = typeof datasetRoutes
export type DatasetView = Static<typeof DatasetView>
export type VersionView = Static<typeof VersionView>
export type UploadView = Static<typeof UploadView>
export type ColumnSchema = Static<typeof ColumnSchema>
export type ColumnProfile = Static<typeof ColumnProfile>
export type DatasetProfile = Static<typeof DatasetProfile>
export type VersionIssue = Static<typeof VersionIssue>
export type VersionStatus = Static<typeof VersionStatus>
export type CreateDatasetInput = Static<typeof CreateDatasetBody>
export type UpdateDatasetInput = Static<typeof UpdateDatasetBody>
export type StartUploadInput = Static<typeof StartUploadBody>
