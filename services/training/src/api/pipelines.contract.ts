import Type, { type Static } from 'typebox'
import { IdempotencyKeyHeaders, Nullable, StringEnum, defineRoutes } from '@argmax/http/contract'
import {
  DEFAULT_MIN_FEEDBACK_ROWS,
  PIPELINE_DATA_SOURCES,
  PIPELINE_TRIGGER_KINDS,
} from '../domain/pipeline.events.ts'
import { BUILTIN_TRAINERS } from '../domain/run.types.ts'
import { SEED_RANGE } from '../domain/trainer-params.ts'

/**
 * The retrain pipelines' routes (`/v1/pipelines/**`), part of the training API's contract
 * (merged into `trainingRoutes`). Free of server code, like contract.ts.
 */

const ModelName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })
export const PipelineParams = Type.Object({ model: ModelName })
const VersionId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })
const MetricName = Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,100}$' })
const Direction = StringEnum(['lower_is_better', 'higher_is_better'] as const)
const Position = Type.Integer({ minimum: 0 })
const JsonObject = Type.Record(Type.String(), Type.Unknown())
const Reason = Type.String({ minLength: 1, maxLength: 2000, description: 'why (recorded)' })

const Triggers = Type.Object(
  {
    retrainRequested: Type.Optional(
      Type.Boolean({ description: "feedback's RetrainRequested starts a run (default true)" }),
    ),
    labelThreshold: Type.Optional(
      Nullable(
        Type.Integer({
          minimum: 1,
          maximum: 1_000_000_000,
          description: 'a labels monitor reporting at least this many new labels starts a run',
        }),
      ),
    ),
    schedule: Type.Optional(
      Nullable(
        Type.String({
          pattern: '^\\S+( \\S+){4}$',
          maxLength: 200,
          description: 'a 5-field cron expression, UTC (e.g. "0 3 * * 1")',
        }),
      ),
    ),
  },
  { additionalProperties: false },
)

export const PipelineConfigBody = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'default true' })),
    triggers: Type.Optional(Triggers),
    data: Type.Object(
      {
        source: Type.Optional(
          StringEnum(PIPELINE_DATA_SOURCES, {
            description:
              "pinned_feedback (default): the feedback dataset pinned for the model, else the base version; base: the base version; fresh_feedback: the base version and a feedback dataset of the labelled predictions since the serving version's release, built for the run",
          }),
        ),
        datasetVersionId: VersionId,
        minFeedbackRows: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: 100_000_000,
            description: `fresh_feedback: fewer labelled rows fail the run (default ${DEFAULT_MIN_FEEDBACK_ROWS})`,
          }),
        ),
      },
      { additionalProperties: false },
    ),
    training: Type.Object(
      {
        target: Type.String({ minLength: 1, maxLength: 256 }),
        features: Type.Optional(
          Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
            minItems: 1,
            maxItems: 10_000,
          }),
        ),
        trainer: Type.Optional(StringEnum(BUILTIN_TRAINERS, { description: 'default xgboost' })),
        params: Type.Optional(JsonObject),
        seed: Type.Optional(
          Type.Integer({
            minimum: SEED_RANGE.low,
            maximum: SEED_RANGE.high,
            description: 'default 0; the same seed and dataset version give the same holdout',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    evaluation: Type.Object(
      {
        metric: MetricName,
        direction: Direction,
        margin: Type.Optional(
          Type.Number({ minimum: 0, maximum: 10, description: 'relative, 0.02 = 2 % (default 0)' }),
        ),
        guards: Type.Optional(
          Type.Array(
            Type.Object(
              {
                metric: MetricName,
                direction: Direction,
                tolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 10 })),
              },
              { additionalProperties: false },
            ),
            { maxItems: 20 },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    rescore: Type.Optional(
      Nullable(
        Type.Object(
          { datasetVersionId: VersionId },
          {
            additionalProperties: false,
            description:
              'before the hand-over, predict every row of this dataset version with the candidate (a batch prediction; the serving version keeps serving). Default null: no such step',
          },
        ),
      ),
    ),
    requireApproval: Type.Optional(
      Type.Boolean({ description: 'an admin approves before the hand-over (default false)' }),
    ),
    rollout: Type.Optional(
      Type.Object(
        {
          steps: Type.Optional(
            Type.Array(Type.Integer({ minimum: 1, maximum: 100 }), { minItems: 1, maxItems: 10 }),
          ),
          criteria: Type.Optional(JsonObject),
          requireApproval: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)

export const CreatePipelineBody = Type.Object(
  { model: ModelName, ...PipelineConfigBody.properties },
  { additionalProperties: false },
)

export const OperatePipelineBody = Type.Object({ reason: Reason }, { additionalProperties: false })

const Check = Type.Object({
  metric: Type.String(),
  role: StringEnum(['gate', 'guard'] as const),
  direction: Direction,
  candidate: Nullable(Type.Number()),
  serving: Nullable(Type.Number()),
  improvement: Nullable(Type.Number()),
  required: Type.Number(),
  passed: Type.Boolean(),
})

export const PipelineRunView = Type.Object({
  pipelineRunId: Type.String(),
  status: StringEnum(['running', 'completed', 'gate_failed', 'failed', 'aborted'] as const),
  step: Type.String({ description: 'what the run does or waits for next (ended once it ended)' }),
  trigger: Type.Object({
    kind: StringEnum(PIPELINE_TRIGGER_KINDS),
    by: Type.String(),
    reason: Type.String(),
    evidence: JsonObject,
    at: Type.String(),
  }),
  coalesced: Type.Integer({ description: 'triggers merged into this run' }),
  startedAt: Type.String(),
  endedAt: Nullable(Type.String()),
  datasetVersionId: Nullable(Type.String()),
  datasetVersionIds: Type.Array(Type.String(), {
    description: 'every dataset version trained on, read in this order as one table',
  }),
  feedbackDatasetId: Nullable(Type.String()),
  feedbackRows: Nullable(
    Type.Integer({ description: 'fresh_feedback: labelled rows of the feedback dataset' }),
  ),
  trainingRunId: Nullable(Type.String()),
  candidateMetrics: Nullable(Type.Record(Type.String(), Type.Number())),
  servingVersion: Nullable(Type.Integer()),
  holdoutRows: Nullable(
    Type.Integer({
      description: "rows of the candidate's holdout both it and the serving version were scored on",
    }),
  ),
  checks: Type.Array(Check),
  gate: Nullable(Type.Object({ passed: Type.Boolean(), reasons: Type.Array(Type.String()) })),
  version: Nullable(Type.Integer()),
  warmedAfterSeconds: Nullable(
    Type.Number({ description: 'from registration to the candidate loaded on the model servers' }),
  ),
  rescore: Nullable(
    Type.Object({
      batchId: Type.String({ description: "the inference service's batch prediction" }),
      rows: Nullable(Type.Integer()),
      rowsFailed: Nullable(Type.Integer()),
      result: Nullable(
        Type.String({ description: 'the predictions file (JSON Lines), once done' }),
      ),
    }),
  ),
  approvedBy: Nullable(Type.String()),
  rolloutId: Nullable(Type.String()),
  failure: Nullable(Type.Object({ reason: Type.String(), message: Type.String() })),
})

export const PipelineView = Type.Object({
  model: Type.String(),
  ownerId: Type.String(),
  config: JsonObject,
  runs: Type.Integer({ description: 'runs started so far' }),
  pinnedDatasetVersionId: Nullable(Type.String()),
  current: Nullable(PipelineRunView),
  createdAt: Type.String(),
  updatedAt: Type.String(),
})

export const PipelineTimelineEntry = Type.Object({
  sequence: Type.Integer({ minimum: 1 }),
  type: Type.String({ description: 'PipelineRunStarted, PipelineEvaluated, PipelineGateFailed …' }),
  at: Type.String(),
  actor: Type.String(),
  data: JsonObject,
})

export const PipelineDetails = Type.Object({
  position: Position,
  pipeline: PipelineView,
  timeline: Type.Array(PipelineTimelineEntry),
})

const Written = Type.Object({ position: Position, pipeline: PipelineView })

const pipelines = ['pipelines']

export const pipelineRoutes = defineRoutes({
  createPipeline: {
    method: 'POST',
    url: '/v1/pipelines',
    retry: 'idempotency-key',
    schema: {
      tags: pipelines,
      summary: "Create a model's retrain pipeline: its triggers and steps",
      headers: IdempotencyKeyHeaders,
      body: CreatePipelineBody,
      response: { 201: Written },
    },
  },
  listPipelines: {
    method: 'GET',
    url: '/v1/pipelines',
    schema: {
      tags: pipelines,
      summary: 'Pipelines you can see, by model',
      querystring: Type.Object(
        {
          model: Type.Optional(ModelName),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ items: Type.Array(PipelineView) }) },
    },
  },
  getPipeline: {
    method: 'GET',
    url: '/v1/pipelines/:model',
    schema: {
      tags: pipelines,
      summary:
        'A pipeline, its current run and the timeline of its steps (every run with all=true)',
      params: PipelineParams,
      querystring: Type.Object(
        { all: Type.Optional(Type.Boolean({ description: 'the timeline of every run' })) },
        { additionalProperties: false },
      ),
      response: { 200: PipelineDetails },
    },
  },
  updatePipeline: {
    method: 'PUT',
    url: '/v1/pipelines/:model',
    retry: 'safe',
    schema: {
      tags: pipelines,
      summary: "Replace a pipeline's configuration (runs in progress keep theirs)",
      params: PipelineParams,
      body: PipelineConfigBody,
      response: { 200: Written },
    },
  },
  triggerPipeline: {
    method: 'POST',
    url: '/v1/pipelines/:model/trigger',
    schema: {
      tags: pipelines,
      summary: 'Start a run by hand (admins); coalesced into the run in progress if there is one',
      params: PipelineParams,
      body: OperatePipelineBody,
      response: { 200: Written },
    },
  },
  approvePipeline: {
    method: 'POST',
    url: '/v1/pipelines/:model/approve',
    schema: {
      tags: pipelines,
      summary: "Approve the run's hand-over to a rollout (admins)",
      params: PipelineParams,
      body: OperatePipelineBody,
      response: { 200: Written },
    },
  },
  abortPipeline: {
    method: 'POST',
    url: '/v1/pipelines/:model/abort',
    schema: {
      tags: pipelines,
      summary: 'Abort the run in progress (admins); its training run is cancelled',
      params: PipelineParams,
      body: OperatePipelineBody,
      response: { 200: Written },
    },
  },
})

export type PipelineView = Static<typeof PipelineView>
export type PipelineRunView = Static<typeof PipelineRunView>
export type PipelineDetails = Static<typeof PipelineDetails>
export type PipelineTimelineEntry = Static<typeof PipelineTimelineEntry>
export type CreatePipelineInput = Static<typeof CreatePipelineBody>
export type PipelineConfigInput = Static<typeof PipelineConfigBody>
