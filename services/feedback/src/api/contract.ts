import Type, { type Static, type TSchema } from 'typebox'
import { IdempotencyKeyHeaders, Nullable, StringEnum, defineRoutes } from '@argmax/http/contract'
import { COMPARISONS, MONITOR_METRICS } from '../domain/monitor-rule.ts'
import { MONITOR_STATES } from '../domain/monitor.events.ts'
import { WINDOWS } from '../domain/windows.ts'

/**
 * The feedback API, declared once: fastify validates requests and serialises answers with these
 * schemas, /docs shows them, handlers are type-checked against them, and the typed client
 * (`@argmax/feedback-service/client`) is derived from them. Clients import this file: it must
 * stay free of server code (only TypeBox and the pure domain constants).
 */

// ── Requests ────────────────────────────────────────────────────────────────────────────────

/** Ids end up in NATS subjects and S3 keys: no dots, slashes or wildcards. */
export const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })
export const ModelName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })

const PredictionId = Type.String({ minLength: 1, maxLength: 512 })
const LabelValue = Type.Union([Type.Number(), Type.String({ minLength: 1, maxLength: 1024 })], {
  description: 'the true value: a number (regression) or one of the classes (classification)',
})

/** Upper bound of the schema; the service's own limit (10,000 by default) is checked after. */
export const MAX_LABELS_SCHEMA = 100_000
/** Room for 10,000 labels with long ids and class names; larger bodies get 413 unread. */
const LABELS_BODY_LIMIT = 16 * 1024 * 1024

export const LabelBody = Type.Object(
  { predictionId: PredictionId, value: LabelValue },
  { additionalProperties: false },
)

export const SendLabelsBody = Type.Object(
  {
    predictionId: Type.Optional(PredictionId),
    value: Type.Optional(LabelValue),
    labels: Type.Optional(Type.Array(LabelBody, { minItems: 1, maxItems: MAX_LABELS_SCHEMA })),
  },
  {
    additionalProperties: false,
    description: 'one label ({predictionId, value}) or a batch ({labels: [...]})',
  },
)

const minPosition = Type.Optional(
  Type.Integer({ minimum: 0, description: 'wait for this FEEDBACK stream position' }),
)

export const ModelParams = Type.Object({ model: ModelName })
export const IdParams = Type.Object({ id: Id })

export const QualityQuery = Type.Object(
  {
    window: Type.Optional(StringEnum(WINDOWS, { description: 'default 1h' })),
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    buckets: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'default 30' })),
  },
  { additionalProperties: false },
)

export const DriftQuery = Type.Object(
  {
    window: Type.Optional(StringEnum(WINDOWS, { description: 'default 1h' })),
    version: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
)

const MonitorRuleSchema = Type.Object(
  {
    metric: StringEnum(MONITOR_METRICS),
    feature: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    comparison: StringEnum(COMPARISONS),
    threshold: Type.Optional(Type.Number()),
    relativeToTest: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'threshold = this × the version’s test metric',
      }),
    ),
    window: StringEnum(WINDOWS),
    forSeconds: Type.Integer({ minimum: 0, maximum: 7 * 86_400 }),
    minLabels: Type.Integer({ minimum: 0, maximum: 100_000_000 }),
    version: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
)

const WebhookUrl = Type.String({
  pattern: '^https?://',
  maxLength: 2048,
  description: 'receives every state change, HMAC-signed (see the README)',
})

export const CreateMonitorBody = Type.Object(
  {
    model: ModelName,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    rule: MonitorRuleSchema,
    webhookUrl: Type.Optional(WebhookUrl),
    retrain: Type.Optional(
      Type.Boolean({ description: 'request a retrain when it fires (default true)' }),
    ),
  },
  { additionalProperties: false },
)

export const UpdateMonitorBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    rule: Type.Optional(MonitorRuleSchema),
    webhookUrl: Type.Optional(Nullable(WebhookUrl)),
    retrain: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
)

export const ListMonitorsQuery = Type.Object(
  { model: Type.Optional(ModelName), minPosition },
  { additionalProperties: false },
)

export const MonitorQuery = Type.Object({ minPosition }, { additionalProperties: false })

/** Alertmanager's webhook payload (version 4); only what the service reads is required. */
export const AlertmanagerBody = Type.Object({
  version: Type.Optional(Type.String()),
  groupKey: Type.Optional(Type.String()),
  status: Type.String(),
  receiver: Type.Optional(Type.String()),
  alerts: Type.Array(
    Type.Object({
      status: Type.String(),
      labels: Type.Record(Type.String(), Type.String()),
      annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
      startsAt: Type.String(),
      endsAt: Type.Optional(Type.String()),
      fingerprint: Type.Optional(Type.String()),
      generatorURL: Type.Optional(Type.String()),
    }),
    { maxItems: 10_000 },
  ),
})

const Selection = Type.Union([
  Type.Object(
    { window: StringEnum(['5m', '1h', '1d', '7d', '30d'] as const) },
    { additionalProperties: false },
  ),
  Type.Object({ version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
  Type.Object({ sinceRelease: Type.Literal(true) }, { additionalProperties: false }),
])

export const CreateFeedbackDatasetBody = Type.Object(
  {
    model: ModelName,
    select: Selection,
    format: Type.Optional(StringEnum(['csv', 'jsonl'] as const, { description: 'default csv' })),
  },
  { additionalProperties: false },
)

export const ListFeedbackDatasetsQuery = Type.Object(
  { model: Type.Optional(ModelName), minPosition },
  { additionalProperties: false },
)

export const PinBody = Type.Object(
  {
    model: ModelName,
    feedbackDatasetId: Nullable(Id),
  },
  { additionalProperties: false },
)

export const PinQuery = Type.Object(
  { model: ModelName, minPosition },
  { additionalProperties: false },
)

export const CreateImportBody = Type.Object(
  {
    datasetId: Id,
    versionId: Id,
    mapping: Type.Object(
      {
        predictionId: Type.String({ minLength: 1, maxLength: 1024 }),
        label: Type.String({ minLength: 1, maxLength: 1024 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
)

export const RetrainsQuery = Type.Object(
  { model: ModelName, minPosition },
  { additionalProperties: false },
)

// ── Answers ─────────────────────────────────────────────────────────────────────────────────

const Timestamp = Type.String({ description: 'ISO-8601, UTC' })
const Position = Type.Integer({ minimum: 0 })
const Num = Nullable(Type.Number())

export const LabelsAccepted = Type.Object({
  requestId: Type.String(),
  accepted: Type.Integer(),
  receivedAt: Timestamp,
  repeated: Type.Boolean({ description: 'a retry under the same Idempotency-Key' }),
})

const WindowView = Type.Object({ name: StringEnum(WINDOWS), from: Timestamp, to: Timestamp })

export const QualityMetrics = Type.Object({
  mae: Type.Optional(Num),
  rmse: Type.Optional(Num),
  r2: Type.Optional(Num),
  accuracy: Type.Optional(Num),
  precision: Type.Optional(Num),
  recall: Type.Optional(Num),
  f1: Type.Optional(Num),
  logLoss: Type.Optional(Num),
})

export const VersionQuality = Type.Object({
  version: Type.Integer(),
  stable: Type.Boolean({ description: 'the version the release serves as stable' }),
  predictions: Type.Integer({ description: 'answered predictions in the window' }),
  labelled: Type.Integer(),
  coverage: Num,
  labelDelaySeconds: Nullable(
    Type.Object({ mean: Type.Number(), p50: Type.Number(), p90: Type.Number() }),
  ),
  metrics: QualityMetrics,
  testMetrics: Type.Record(Type.String(), Type.Number()),
})

export const QualityPoint = Type.Object({
  version: Type.Integer(),
  time: Timestamp,
  labelled: Type.Integer(),
  metrics: QualityMetrics,
})

export const QualityView = Type.Object({
  model: Type.String(),
  task: Nullable(StringEnum(['regression', 'classification'] as const)),
  window: WindowView,
  bucketSeconds: Type.Integer(),
  versions: Type.Array(VersionQuality),
  series: Type.Array(QualityPoint),
})

export const FeatureDrift = Type.Object({
  feature: Type.String(),
  kind: StringEnum(['numeric', 'categorical'] as const),
  psi: Num,
  /** Live share of each baseline bin, the baseline's, and the bin's label. */
  bins: Type.Array(
    Type.Object({ bin: Type.String(), expected: Type.Number(), actual: Type.Number() }),
  ),
})

export const VersionDrift = Type.Object({
  version: Type.Integer(),
  predictions: Type.Integer(),
  baseline: Nullable(
    Type.Object({
      datasetId: Nullable(Type.String()),
      datasetVersionId: Type.String(),
      rows: Type.Integer(),
    }),
  ),
  features: Type.Array(FeatureDrift),
  prediction: Nullable(FeatureDrift),
  maxPsi: Num,
  note: Type.Optional(Type.String()),
})

export const DriftView = Type.Object({
  model: Type.String(),
  window: WindowView,
  versions: Type.Array(VersionDrift),
})

export const MonitorView = Type.Object({
  id: Type.String(),
  model: Type.String(),
  ownerId: Type.String(),
  name: Type.String(),
  rule: MonitorRuleSchema,
  webhook: Nullable(
    Type.Object({
      url: Type.String(),
      secret: Type.Optional(
        Type.String({
          description: 'verifies X-Argmax-Signature; shown to owners and admins only',
        }),
      ),
    }),
  ),
  retrain: Type.Boolean(),
  isDefault: Type.Boolean(),
  state: StringEnum(MONITOR_STATES),
  stateSince: Timestamp,
  lastTransition: Nullable(Type.Unknown()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})

export const FeedbackDatasetView = Type.Object({
  id: Type.String(),
  model: Type.String(),
  ownerId: Type.String(),
  requestedBy: Type.String(),
  selection: Type.Unknown(),
  format: Type.String(),
  status: StringEnum([
    'REQUESTED',
    'MATERIALIZED',
    'REGISTERED',
    'REJECTED',
    'EMPTY',
    'FAILED',
  ] as const),
  versions: Type.Array(Type.Integer()),
  window: Nullable(Type.Object({ from: Timestamp, to: Timestamp })),
  rowCount: Nullable(Type.Integer()),
  object: Nullable(
    Type.Object({ uri: Type.String(), sha256: Type.String(), size: Type.Integer() }),
  ),
  datasetId: Type.String(),
  datasetVersionId: Type.String(),
  error: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})

export const PinView = Type.Object({
  model: Type.String(),
  feedbackDatasetId: Nullable(Type.String()),
  datasetId: Nullable(Type.String()),
  datasetVersionId: Nullable(Type.String()),
  pinnedBy: Type.String(),
  pinnedAt: Timestamp,
})

export const ImportView = Type.Object({
  id: Type.String(),
  requestedBy: Type.String(),
  datasetId: Type.String(),
  versionId: Type.String(),
  mapping: Type.Object({ predictionId: Type.String(), label: Type.String() }),
  status: StringEnum(['RUNNING', 'COMPLETED', 'FAILED'] as const),
  accepted: Type.Integer(),
  rejected: Type.Integer(),
  errors: Type.Array(
    Type.Object({ row: Type.Integer(), column: Type.String(), message: Type.String() }),
  ),
  createdAt: Timestamp,
  finishedAt: Nullable(Timestamp),
})

export const RetrainRequestView = Type.Object({
  id: Type.String(),
  model: Type.String(),
  version: Nullable(Type.Integer()),
  trigger: Type.String(),
  monitorId: Nullable(Type.String()),
  reason: Type.String(),
  evidence: Type.Record(Type.String(), Type.Unknown()),
  requestedAt: Timestamp,
})

const created = <T extends TSchema>(schema: T) => Type.Object({ position: Position, item: schema })

// ── Routes ──────────────────────────────────────────────────────────────────────────────────

const feedback = ['feedback']
const quality = ['quality']
const monitors = ['monitors']

export const feedbackRoutes = defineRoutes({
  sendLabels: {
    method: 'POST',
    url: '/v1/feedback',
    retry: 'idempotency-key',
    bodyLimit: LABELS_BODY_LIMIT,
    schema: {
      tags: feedback,
      summary: 'Send ground truth for one prediction or a batch (up to 10,000)',
      headers: IdempotencyKeyHeaders,
      body: SendLabelsBody,
      response: { 202: LabelsAccepted },
    },
  },
  createImport: {
    method: 'POST',
    url: '/v1/feedback/imports',
    retry: 'idempotency-key',
    schema: {
      tags: feedback,
      summary: 'Import labels from an uploaded dataset version (column mapping)',
      headers: IdempotencyKeyHeaders,
      body: CreateImportBody,
      response: { 202: created(ImportView) },
    },
  },
  getImport: {
    method: 'GET',
    url: '/v1/feedback/imports/:id',
    schema: {
      tags: feedback,
      summary: 'An import: status, counts, refused rows',
      params: IdParams,
      querystring: MonitorQuery,
      response: { 200: ImportView },
    },
  },
  createFeedbackDataset: {
    method: 'POST',
    url: '/v1/feedback/datasets',
    retry: 'idempotency-key',
    schema: {
      tags: feedback,
      summary: 'Snapshot labelled predictions as a new dataset version',
      headers: IdempotencyKeyHeaders,
      body: CreateFeedbackDatasetBody,
      response: { 202: created(FeedbackDatasetView) },
    },
  },
  listFeedbackDatasets: {
    method: 'GET',
    url: '/v1/feedback/datasets',
    schema: {
      tags: feedback,
      summary: 'Feedback datasets you can see, newest first',
      querystring: ListFeedbackDatasetsQuery,
      response: { 200: Type.Object({ items: Type.Array(FeedbackDatasetView) }) },
    },
  },
  getPin: {
    method: 'GET',
    url: '/v1/feedback/datasets/pin',
    schema: {
      tags: feedback,
      summary: 'The feedback dataset pinned for a model’s retrains',
      querystring: PinQuery,
      response: { 200: PinView },
    },
  },
  pinFeedbackDataset: {
    method: 'PUT',
    url: '/v1/feedback/datasets/pin',
    schema: {
      tags: feedback,
      summary: 'Pin the feedback dataset retrains of a model use (admin; null unpins)',
      body: PinBody,
      response: { 200: Type.Object({ position: Position, pin: PinView }) },
    },
  },
  getFeedbackDataset: {
    method: 'GET',
    url: '/v1/feedback/datasets/:id',
    schema: {
      tags: feedback,
      summary: 'A feedback dataset',
      params: IdParams,
      querystring: MonitorQuery,
      response: { 200: FeedbackDatasetView },
    },
  },
  getQuality: {
    method: 'GET',
    url: '/v1/quality/:model',
    schema: {
      tags: quality,
      summary: 'Live quality per version over a window, with its time series',
      params: ModelParams,
      querystring: QualityQuery,
      response: { 200: QualityView },
    },
  },
  getDrift: {
    method: 'GET',
    url: '/v1/quality/:model/drift',
    schema: {
      tags: quality,
      summary: 'Input and prediction drift (PSI against the training profile) per version',
      params: ModelParams,
      querystring: DriftQuery,
      response: { 200: DriftView },
    },
  },
  createMonitor: {
    method: 'POST',
    url: '/v1/monitors',
    retry: 'idempotency-key',
    schema: {
      tags: monitors,
      summary: 'Create a monitor',
      headers: IdempotencyKeyHeaders,
      body: CreateMonitorBody,
      response: { 201: created(MonitorView) },
    },
  },
  listMonitors: {
    method: 'GET',
    url: '/v1/monitors',
    schema: {
      tags: monitors,
      summary: 'Monitors you can see',
      querystring: ListMonitorsQuery,
      response: { 200: Type.Object({ items: Type.Array(MonitorView) }) },
    },
  },
  listRetrainRequests: {
    method: 'GET',
    url: '/v1/monitors/retrains',
    schema: {
      tags: monitors,
      summary: 'Retrain requests raised for a model, newest first',
      querystring: RetrainsQuery,
      response: { 200: Type.Object({ items: Type.Array(RetrainRequestView) }) },
    },
  },
  alertmanagerWebhook: {
    method: 'POST',
    url: '/v1/monitors/alertmanager',
    retry: 'safe',
    bodyLimit: 4 * 1024 * 1024,
    schema: {
      tags: monitors,
      summary: 'Alertmanager webhook receiver: firing alerts request a retrain (admin credential)',
      body: AlertmanagerBody,
      response: {
        200: Type.Object({ retrainRequests: Type.Integer(), ignored: Type.Integer() }),
      },
    },
  },
  getMonitor: {
    method: 'GET',
    url: '/v1/monitors/:id',
    schema: {
      tags: monitors,
      summary: 'A monitor and its state',
      params: IdParams,
      querystring: MonitorQuery,
      response: { 200: MonitorView },
    },
  },
  updateMonitor: {
    method: 'PATCH',
    url: '/v1/monitors/:id',
    retry: 'safe',
    schema: {
      tags: monitors,
      summary: 'Change a monitor',
      params: IdParams,
      body: UpdateMonitorBody,
      response: { 200: Type.Object({ position: Position, item: MonitorView }) },
    },
  },
  deleteMonitor: {
    method: 'DELETE',
    url: '/v1/monitors/:id',
    schema: {
      tags: monitors,
      summary: 'Delete a monitor',
      params: IdParams,
      response: { 200: Type.Object({ id: Type.String(), position: Position }) },
    },
  },
})

export type FeedbackRoutes = typeof feedbackRoutes
export type LabelsAccepted = Static<typeof LabelsAccepted>
export type QualityView = Static<typeof QualityView>
export type QualityMetrics = Static<typeof QualityMetrics>
export type VersionQuality = Static<typeof VersionQuality>
export type DriftView = Static<typeof DriftView>
export type VersionDrift = Static<typeof VersionDrift>
export type FeatureDrift = Static<typeof FeatureDrift>
export type MonitorView = Static<typeof MonitorView>
export type FeedbackDatasetView = Static<typeof FeedbackDatasetView>
export type PinView = Static<typeof PinView>
export type ImportView = Static<typeof ImportView>
export type RetrainRequestView = Static<typeof RetrainRequestView>
export type CreateMonitorInput = Static<typeof CreateMonitorBody>
export type SendLabelsInput = Static<typeof SendLabelsBody>
