import Type, { type Static } from 'typebox'
import { IdempotencyKeyHeaders, Nullable, StringEnum, defineRoutes } from '@argmax/http/contract'
import {
  BUILTIN_TRAINERS,
  FAILURE_REASONS,
  PRIORITIES,
  RUN_STATUSES,
  TASKS,
} from '../domain/run.types.ts'
import { CHECKPOINT_EVERY_RANGE, SEED_RANGE } from '../domain/trainer-params.ts'
import { pipelineRoutes } from './pipelines.contract.ts'

/**
 * The training API, declared once: fastify validates requests and serialises answers with these
 * schemas, /docs shows them, handlers are type-checked against them, and the typed client
 * (`@argmax/training-service/client`) is derived from them. Clients import this file: it must
 * stay free of server code (TypeBox and the pure domain vocabulary only).
 *
 * The job-facing routes trainers call (heartbeats, checkpoint, artifacts) take raw bytes or a
 * run-scoped token and are served apart (`job.routes.ts`); their heartbeat body is declared
 * here too.
 */

// ── Requests ────────────────────────────────────────────────────────────────────────────────

/** Ids end up in NATS subjects and S3 keys: no dots, slashes or wildcards. */
export const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })
export const RunParams = Type.Object({ runId: Id })
/** A user id as JWT subjects come: anything printable, bounded. */
export const UserParams = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 256 }) })

const minPosition = Type.Optional(
  Type.Integer({ minimum: 0, description: 'wait for this TRAINING stream position' }),
)

export const Resources = Type.Object(
  {
    cpu: Type.Optional(
      Type.Number({ minimum: 0.1, maximum: 256, description: 'CPU cores (default 1)' }),
    ),
    memoryMb: Type.Optional(
      Type.Integer({ minimum: 128, maximum: 4 * 1024 * 1024, description: 'default 2048' }),
    ),
    gpus: Type.Optional(Type.Integer({ minimum: 0, maximum: 64, description: 'default 0' })),
    gpuProfile: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9][a-z0-9.-]*/[a-z0-9][a-z0-9.-]*$',
        maxLength: 128,
        description:
          'a GPU resource such as a MIG slice, e.g. nvidia.com/mig-1g.5gb (kubernetes runner)',
      }),
    ),
  },
  { additionalProperties: false },
)

export const CreateRunBody = Type.Object(
  {
    model: Type.String({
      minLength: 1,
      maxLength: 63,
      description: 'the registry model the result is registered under (created on first use)',
    }),
    datasetVersionId: Id,
    extraDatasetVersionIds: Type.Optional(
      Type.Array(Id, {
        minItems: 1,
        maxItems: 10,
        uniqueItems: true,
        description:
          "more records of the same table (e.g. a feedback dataset's labelled predictions), read after datasetVersionId's before the split; same format, the target column needed, a column one lacks is missing in its records",
      }),
    ),
    target: Type.String({ minLength: 1, maxLength: 1024, description: 'the column to predict' }),
    features: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), {
        minItems: 1,
        maxItems: 10_000,
        description: 'default: every other usable column',
      }),
    ),
    task: Type.Optional(StringEnum(TASKS, { description: "default: from the target's type" })),
    trainer: StringEnum([...BUILTIN_TRAINERS, 'custom'] as const),
    image: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description: 'custom trainers: the container image',
      }),
    ),
    command: Type.Optional(
      Type.Array(Type.String({ maxLength: 4096 }), {
        minItems: 1,
        maxItems: 100,
        description: 'custom trainers: its command',
      }),
    ),
    params: Type.Optional(
      Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
        maxProperties: 100,
        description: "the trainer's hyper-parameters (see services/training/trainers/README.md)",
      }),
    ),
    priority: Type.Optional(
      StringEnum(PRIORITIES, { description: 'default: high for internal, normal otherwise' }),
    ),
    resources: Type.Optional(Resources),
    timeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: 30 * 24 * 3600,
        description: 'default 36 h; above it only for allow-listed users',
      }),
    ),
    seed: Type.Optional(Type.Integer({ minimum: SEED_RANGE.low, maximum: SEED_RANGE.high })),
    checkpointEvery: Type.Optional(
      Type.Integer({ minimum: CHECKPOINT_EVERY_RANGE.low, maximum: CHECKPOINT_EVERY_RANGE.high }),
    ),
  },
  { additionalProperties: false },
)

export const DEFAULT_PAGE_SIZE = 50

export const RunStatus = StringEnum(RUN_STATUSES)

export const ListRunsQuery = Type.Object(
  {
    status: Type.Optional(RunStatus),
    owner: Type.Optional(
      Type.String({ maxLength: 256, description: 'admins and analysts: one owner' }),
    ),
    datasetId: Type.Optional(Id),
    datasetVersionId: Type.Optional(Id),
    model: Type.Optional(Type.String({ maxLength: 63 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: DEFAULT_PAGE_SIZE })),
    minPosition,
  },
  { additionalProperties: false },
)

export const RunQuery = Type.Object({ minPosition }, { additionalProperties: false })

export const LogsQuery = Type.Object(
  {
    attempt: Type.Optional(Type.Integer({ minimum: 1, description: 'default: the latest' })),
    lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 200 })),
  },
  { additionalProperties: false },
)

export const MetricsQuery = Type.Object(
  {
    attempt: Type.Optional(Type.Integer({ minimum: 1 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 1000 })),
  },
  { additionalProperties: false },
)

/**
 * Null first: fastify's ajv coerces types, and in `[integer, null]` it would turn a null into
 * 0 (the first branch) before the second was tried.
 */
const Limit = Type.Union([Type.Null(), Type.Integer({ minimum: 0, maximum: 100_000 })])
export const QuotaOverrideBody = Type.Object(
  {
    concurrent: Type.Optional(Limit),
    hourly: Type.Optional(Limit),
    daily: Type.Optional(Limit),
  },
  { additionalProperties: false, description: 'null (or absent) falls back to the role default' },
)

/** What a trainer posts (see trainers/README.md, "The job contract"). */
export const HeartbeatBody = Type.Object(
  {
    attempt: Type.Integer({ minimum: 1 }),
    iteration: Type.Integer({ minimum: 0 }),
    totalIterations: Type.Integer({ minimum: 0 }),
    metrics: Type.Record(Type.String({ maxLength: 200 }), Nullable(Type.Number()), {
      maxProperties: 100,
    }),
    message: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
)

// ── Answers ─────────────────────────────────────────────────────────────────────────────────

const Timestamp = Type.String({ description: 'ISO-8601, UTC' })
const Position = Type.Integer({ minimum: 0 })

export const StoredObjectView = Type.Object({
  uri: Type.String({ description: 's3://bucket/key' }),
  sha256: Type.String(),
  size: Type.Integer(),
})

export const FailureView = Type.Object({
  reason: StringEnum(FAILURE_REASONS),
  /** For `max_attempts`: why the last attempt failed. */
  lastReason: Type.Optional(Type.String()),
  message: Type.String(),
  logTail: Type.String({ description: "the job's last log lines" }),
  attempt: Type.Integer(),
  exitCode: Nullable(Type.Integer()),
})

export const ProgressView = Type.Object({
  attempt: Type.Integer(),
  iteration: Type.Integer(),
  totalIterations: Type.Integer(),
  metrics: Type.Record(Type.String(), Nullable(Type.Number())),
  message: Nullable(Type.String()),
  at: Timestamp,
})

export const AttemptView = Type.Object({
  attempt: Type.Integer(),
  runner: Type.String(),
  priority: StringEnum(PRIORITIES),
  startedAt: Timestamp,
  endedAt: Nullable(Timestamp),
  outcome: StringEnum([
    'running',
    'retried',
    'failed',
    'dead_lettered',
    'succeeded',
    'cancelled',
  ] as const),
  reason: Nullable(Type.String()),
  message: Nullable(Type.String()),
  exitCode: Nullable(Type.Integer()),
})

export const RunView = Type.Object({
  id: Type.String(),
  model: Type.String(),
  ownerId: Type.String(),
  status: RunStatus,
  task: StringEnum(TASKS),
  trainer: Type.Object({
    name: Type.String({ description: 'xgboost, linear or custom' }),
    image: Type.Optional(Type.String()),
    command: Type.Optional(Type.Array(Type.String())),
  }),
  dataset: Type.Object({
    datasetId: Type.String(),
    versionId: Type.String(),
    sha256: Type.String(),
  }),
  target: Type.String(),
  features: Type.Array(Type.String()),
  params: Type.Record(Type.String(), Type.Unknown()),
  priority: StringEnum(PRIORITIES),
  queuePriority: StringEnum(PRIORITIES, {
    description: 'the priority it waits at (low for retries)',
  }),
  resources: Type.Object({
    cpu: Type.Number(),
    memoryMb: Type.Integer(),
    gpus: Type.Integer(),
    gpuProfile: Type.Optional(Type.String()),
  }),
  timeoutSeconds: Type.Integer(),
  seed: Type.Integer(),
  attempt: Type.Integer({ description: 'the last attempt started (0: none yet)' }),
  maxAttempts: Type.Integer({ description: 'attempts allowed before the run is dead-lettered' }),
  runner: Nullable(Type.String()),
  queuedAt: Timestamp,
  notBefore: Timestamp,
  startedAt: Nullable(Timestamp),
  attemptStartedAt: Nullable(Timestamp),
  deadline: Nullable(Timestamp),
  finishedAt: Nullable(Timestamp),
  failure: Nullable(FailureView),
  metrics: Nullable(Type.Record(Type.String(), Type.Number())),
  artifacts: Nullable(Type.Record(Type.String(), StoredObjectView)),
  position: Position,
})

export const RunDetailView = Type.Intersect([
  RunView,
  Type.Object({ attempts: Type.Array(AttemptView), progress: Nullable(ProgressView) }),
])

export const QuotaView = Type.Object({
  userId: Type.String(),
  limits: Type.Object({
    concurrent: Type.Integer(),
    hourly: Type.Integer(),
    daily: Type.Integer(),
  }),
  override: Type.Object({
    concurrent: Type.Optional(Type.Integer()),
    hourly: Type.Optional(Type.Integer()),
    daily: Type.Optional(Type.Integer()),
  }),
  usage: Type.Object({ concurrent: Type.Integer(), hourly: Type.Integer(), daily: Type.Integer() }),
  activeRuns: Type.Array(Type.String()),
})

// ── Routes ──────────────────────────────────────────────────────────────────────────────────

const runs = ['runs']
const operations = ['operations']

export const trainingRoutes = defineRoutes({
  ...pipelineRoutes,
  createRun: {
    method: 'POST',
    url: '/v1/runs',
    retry: 'idempotency-key',
    schema: {
      tags: runs,
      summary: 'Submit a training run (quota: 429 with Retry-After when over)',
      headers: IdempotencyKeyHeaders,
      body: CreateRunBody,
      response: { 201: Type.Object({ id: Type.String(), position: Position, run: RunView }) },
    },
  },
  listRuns: {
    method: 'GET',
    url: '/v1/runs',
    schema: {
      tags: runs,
      summary: 'List the runs you can see, newest first',
      querystring: ListRunsQuery,
      response: {
        200: Type.Object({ items: Type.Array(RunView), nextCursor: Nullable(Type.String()) }),
      },
    },
  },
  listDeadLetters: {
    method: 'GET',
    url: '/v1/runs/dead-letters',
    schema: {
      tags: operations,
      summary: 'Dead-lettered runs, oldest first (admins)',
      querystring: Type.Object(
        {
          cursor: Type.Optional(Type.String({ maxLength: 200 })),
          limit: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 200, default: DEFAULT_PAGE_SIZE }),
          ),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({ items: Type.Array(RunView), nextCursor: Nullable(Type.String()) }),
      },
    },
  },
  getRun: {
    method: 'GET',
    url: '/v1/runs/:runId',
    schema: {
      tags: runs,
      summary: 'A run with its attempts and latest progress',
      params: RunParams,
      querystring: RunQuery,
      response: { 200: RunDetailView },
    },
  },
  cancelRun: {
    method: 'POST',
    url: '/v1/runs/:runId/cancel',
    retry: 'safe',
    schema: {
      tags: runs,
      summary: 'Cancel a PENDING or TRAINING run (its job is killed)',
      params: RunParams,
      response: { 200: Type.Object({ position: Position, run: RunView }) },
    },
  },
  retryRun: {
    method: 'POST',
    url: '/v1/runs/:runId/retry',
    retry: 'safe',
    schema: {
      tags: operations,
      summary: 'Give a dead-lettered run another round of attempts (admins)',
      params: RunParams,
      response: { 200: Type.Object({ position: Position, run: RunView }) },
    },
  },
  discardRun: {
    method: 'POST',
    url: '/v1/runs/:runId/discard',
    retry: 'safe',
    schema: {
      tags: operations,
      summary: 'Give up on a dead-lettered run: it ends FAILED (admins)',
      params: RunParams,
      response: { 200: Type.Object({ position: Position, run: RunView }) },
    },
  },
  getRunLogs: {
    method: 'GET',
    url: '/v1/runs/:runId/logs',
    schema: {
      tags: runs,
      summary: "An attempt's log: live from the runner, else train.log or the failure's tail",
      params: RunParams,
      querystring: LogsQuery,
      response: {
        200: Type.Object({
          runId: Type.String(),
          attempt: Type.Integer(),
          source: StringEnum(['runner', 'artifact', 'failure', 'none'] as const),
          text: Type.String(),
        }),
      },
    },
  },
  getRunMetrics: {
    method: 'GET',
    url: '/v1/runs/:runId/metrics',
    schema: {
      tags: runs,
      summary: 'The metrics history the trainer reported (one entry per iteration)',
      params: RunParams,
      querystring: MetricsQuery,
      response: {
        200: Type.Object({
          items: Type.Array(ProgressView),
          nextCursor: Nullable(Type.String()),
        }),
      },
    },
  },
  getQuota: {
    method: 'GET',
    url: '/v1/runs/quotas/:userId',
    schema: {
      tags: operations,
      summary: "A user's quota limits and usage (yours, or anyone's for admins)",
      params: UserParams,
      response: { 200: QuotaView },
    },
  },
  setQuota: {
    method: 'PUT',
    url: '/v1/runs/quotas/:userId',
    schema: {
      tags: operations,
      summary: "Set a user's own quota limits (admins)",
      params: UserParams,
      body: QuotaOverrideBody,
      response: { 200: QuotaView },
    },
  },
})

export type TrainingRoutes = typeof trainingRoutes
export type RunView = Static<typeof RunView>
export type RunDetailView = Static<typeof RunDetailView>
export type AttemptView = Static<typeof AttemptView>
export type ProgressView = Static<typeof ProgressView>
export type FailureView = Static<typeof FailureView>
export type QuotaView = Static<typeof QuotaView>
export type CreateRunInput = Static<typeof CreateRunBody>
export type HeartbeatInput = Static<typeof HeartbeatBody>
export type RunStatusName = Static<typeof RunStatus>
