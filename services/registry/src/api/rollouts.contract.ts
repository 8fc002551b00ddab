import Type, { type Static } from 'typebox'
import { Nullable, StringEnum } from '@argmax/http/contract'

/**
 * The rollout schemas of the registry API (`/v1/rollouts/**`); the routes are in contract.ts.
 * Like it, free of server code: clients import it.
 */

const ModelName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })
const VersionNumber = Type.Integer({ minimum: 1, maximum: 2_147_483_647 })
const Timestamp = Type.String({ description: 'ISO-8601, UTC' })
const JsonObject = Type.Record(Type.String(), Type.Unknown())

export const RolloutIdParams = Type.Object({
  id: Type.String({
    pattern: '^[a-z0-9][a-z0-9-]{0,62}\\.[1-9][0-9]{0,9}$',
    description: '<model>.<n>, e.g. movies.3',
  }),
})

const QualityFields = {
  metric: StringEnum(['mae', 'rmse', 'accuracy', 'log_loss'] as const, {
    description: "live quality metric (the monitors' names; it must fit the model's task)",
  }),
  direction: StringEnum(['lower_is_better', 'higher_is_better'] as const),
  minLabels: Type.Integer({
    minimum: 1,
    maximum: 1e9,
    description: 'labelled predictions of the candidate (and of the stable, to compare) needed',
  }),
  maxDegradation: Type.Number({
    minimum: 0,
    maximum: 10,
    description: 'relative degradation allowed against the stable version (0.05: 5 % worse)',
  }),
}

/** As recorded (the metric a string: what a rollout recorded stays readable). */
const QualityCriteria = Type.Object(
  { ...QualityFields, metric: Type.String() },
  { additionalProperties: false },
)

/** A start may leave the direction out: it follows from the metric. */
const QualityCriteriaInput = Type.Object(
  { ...QualityFields, direction: Type.Optional(QualityFields.direction) },
  { additionalProperties: false },
)

const CriteriaFields = {
  windowSeconds: Type.Integer({ minimum: 1, maximum: 604_800, description: 'each step held' }),
  minRequests: Type.Integer({ minimum: 1, description: "candidate's requests before a verdict" }),
  maxErrorRate: Type.Number({ minimum: 0, maximum: 1 }),
  maxErrorRateIncrease: Type.Number({ minimum: 0, maximum: 1, description: 'over the stable' }),
  maxP99Ratio: Type.Number({ minimum: 1, maximum: 100, description: "× the stable's p99" }),
  p99SlackMs: Type.Number({ minimum: 0, maximum: 60_000 }),
  stepDeadlineSeconds: Type.Integer({
    minimum: 1,
    maximum: 2_592_000,
    description:
      'a step still short of its requests or labels this long after its window started fails: insufficient traffic (default a day, at least windowSeconds)',
  }),
}

export const StartRolloutBody = Type.Object(
  {
    model: ModelName,
    candidate: Type.String({
      pattern: '^([1-9][0-9]{0,9}|[a-z][a-z0-9-]{0,62})$',
      description: 'a version number or an alias (challenger)',
    }),
    steps: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 100 }), {
        minItems: 1,
        maxItems: 10,
        description: 'canary percentages, increasing, the last 100 (default 10, 50, 100)',
      }),
    ),
    criteria: Type.Optional(
      Type.Object(
        {
          windowSeconds: Type.Optional(CriteriaFields.windowSeconds),
          minRequests: Type.Optional(CriteriaFields.minRequests),
          maxErrorRate: Type.Optional(CriteriaFields.maxErrorRate),
          maxErrorRateIncrease: Type.Optional(CriteriaFields.maxErrorRateIncrease),
          maxP99Ratio: Type.Optional(CriteriaFields.maxP99Ratio),
          p99SlackMs: Type.Optional(CriteriaFields.p99SlackMs),
          stepDeadlineSeconds: Type.Optional(CriteriaFields.stepDeadlineSeconds),
          quality: Type.Optional(QualityCriteriaInput),
        },
        { additionalProperties: false },
      ),
    ),
    requireApproval: Type.Optional(
      Type.Boolean({ description: 'an admin approves each next step and the promotion' }),
    ),
    reason: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false },
)

export const OperateRolloutBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000, description: 'why (recorded)' }) },
  { additionalProperties: false },
)

export const ListRolloutsQuery = Type.Object(
  {
    model: Type.Optional(ModelName),
    state: Type.Optional(StringEnum(['active', 'ended'] as const)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  { additionalProperties: false },
)

export const RolloutView = Type.Object({
  rolloutId: Type.String(),
  model: Type.String(),
  candidate: VersionNumber,
  stable: VersionNumber,
  steps: Type.Array(Type.Integer()),
  criteria: Type.Object({
    ...CriteriaFields,
    // Absent from rollouts recorded before step deadlines existed.
    stepDeadlineSeconds: Type.Optional(CriteriaFields.stepDeadlineSeconds),
    quality: Type.Optional(QualityCriteria),
  }),
  requireApproval: Type.Boolean(),
  startedBy: Type.String(),
  startedAt: Timestamp,
  reason: Type.String(),
  status: StringEnum([
    'running',
    'paused',
    'awaiting_approval',
    'promoting',
    'reverting',
    'promoted',
    'rolled_back',
    'aborted',
  ] as const),
  /** Index in `steps` of the step in progress (or the last one reached). */
  step: Type.Integer({ minimum: 0 }),
  percent: Type.Integer({ description: "the current step's share" }),
  stepStartedAt: Nullable(Timestamp),
  windowStartedAt: Nullable(Timestamp),
  previousStable: Nullable(VersionNumber),
  updatedAt: Timestamp,
  endedAt: Nullable(Timestamp),
})

export const RolloutTimelineEntry = Type.Object({
  sequence: Type.Integer({ minimum: 1 }),
  type: Type.String({ description: 'RolloutStarted, RolloutStepJudged, RolloutPromoted …' }),
  at: Timestamp,
  actor: Type.String(),
  /** The event's data: a judgement carries its signals, checks and reasons. */
  data: JsonObject,
})

export const RolloutDetails = Type.Object({
  rollout: RolloutView,
  timeline: Type.Array(RolloutTimelineEntry),
})

export type RolloutView = Static<typeof RolloutView>
export type RolloutDetails = Static<typeof RolloutDetails>
export type RolloutTimelineEntry = Static<typeof RolloutTimelineEntry>
export type StartRolloutInput = Static<typeof StartRolloutBody>
