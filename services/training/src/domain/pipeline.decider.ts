import type { StoredObject } from '@argmax/contracts'
import { IllegalStateError, NotFoundError } from '@argmax/errors'
import { isRepeatedCreate, type AggregateDecider } from '@argmax/events'
import { decideGate, evaluateCandidate, type Candidate } from './pipeline-gate.ts'
import {
  PIPELINE_EVENT_TYPES,
  type EvaluationHoldout,
  type MetricCheck,
  type PipelineConfig,
  type PipelineDataSource,
  type PipelineEvent,
  type PipelineFailureReason,
  type PipelineTrigger,
  type ServingSide,
} from './pipeline.events.ts'

export type PipelineRunStatus = 'running' | 'completed' | 'gate_failed' | 'failed' | 'aborted'

/**
 * Where a running pipeline run is, i.e. what happens next: each step is decided by the worker
 * (`requesting_feedback` asks feedback for a fresh dataset, `preparing_data` — for a fresh
 * feedback dataset, waits for its outcome —, `training` once submitted waits for the run's
 * outcome, `evaluating`,
 * `gating`, `registering` waits for the registry's version, `warming` for the gateway to load
 * it, `requesting_rescore` asks inference for a batch prediction and `rescoring` waits for it
 * (where configured), `awaiting_approval` for an admin,
 * `handing_over`, `failing` after a failed training).
 */
export type PipelineStep =
  | 'requesting_feedback'
  | 'preparing_data'
  | 'submitting_training'
  | 'training'
  | 'failing'
  | 'evaluating'
  | 'gating'
  | 'registering'
  | 'warming'
  | 'requesting_rescore'
  | 'rescoring'
  | 'awaiting_approval'
  | 'handing_over'
  | 'ended'

export interface PipelineRun {
  pipelineRunId: string
  n: number
  trigger: PipelineTrigger
  config: PipelineConfig
  status: PipelineRunStatus
  startedAt: string
  endedAt: string | null
  coalesced: number
  /** `fresh_feedback`: the feedback dataset asked for, before the data is prepared. */
  feedbackRequest: { feedbackDatasetId: string; servingVersion: number } | null
  dataset: {
    source: PipelineDataSource
    datasetVersionId: string
    /** Every version trained on, in order (the first is `datasetVersionId`). */
    datasetVersionIds: string[]
    feedbackDatasetId?: string
    feedbackRows?: number
  } | null
  trainingRunId: string | null
  training: {
    outcome: 'succeeded' | 'failed' | 'cancelled'
    metrics: Record<string, number>
    datasetVersionId: string
    seed: number
    message?: string
  } | null
  evaluation: {
    serving: ServingSide | null
    holdout: EvaluationHoldout | null
    candidate: Record<string, number>
    checks: MetricCheck[]
  } | null
  gate: { passed: boolean; reasons: string[] } | null
  version: number | null
  /** When the candidate was registered: the warm step's deadline counts from here. */
  registeredAt: string | null
  warmup: { waitedSeconds: number; skipped?: string } | null
  /** `config.rescore`: the batch prediction asked for, and once it finished, its result. */
  rescore: {
    batchId: string
    result: { rows: number; rowsFailed: number; object: StoredObject } | null
  } | null
  approvedBy: string | null
  rolloutId: string | null
  failure: { reason: PipelineFailureReason | 'aborted'; message: string } | null
}

export interface PipelineRecord {
  status: 'present'
  model: string
  ownerId: string
  config: PipelineConfig
  createdAt: string
  updatedAt: string
  requestHash?: string
  runs: number
  /** The run in progress, or the last one (ended). */
  current: PipelineRun | null
  pin: { feedbackDatasetId: string; datasetVersionId: string } | null
  /** Events already acted on (RetrainRequested, pins): redeliveries change nothing. */
  seenSources: ReadonlySet<string>
  lastScheduleSlot: string | null
}

export type PipelineState = { status: 'absent' } | PipelineRecord

export const initialPipelineState: PipelineState = { status: 'absent' }

type Now = { now: Date }

export type PipelineCommand =
  | {
      type: 'CreatePipeline'
      data: {
        model: string
        ownerId: string
        config: PipelineConfig
        by: string
        requestHash?: string
      } & Now
    }
  | { type: 'UpdatePipeline'; data: { config: PipelineConfig; by: string } & Now }
  | {
      type: 'RecordPin'
      data: {
        feedbackDatasetId: string | null
        datasetId: string | null
        datasetVersionId: string | null
        pinnedBy: string
        pinnedAt: string
        sourceEventId: string
      }
    }
  | { type: 'Trigger'; data: { trigger: PipelineTrigger } & Now }
  | {
      type: 'RecordFeedbackRequested'
      data: { pipelineRunId: string; feedbackDatasetId: string; servingVersion: number } & Now
    }
  | {
      type: 'PrepareData'
      data: {
        pipelineRunId: string
        /** `fresh_feedback`: what became of the feedback dataset (read from feedback's events). */
        feedback?: FeedbackDatasetOutcome
        /** `fresh_feedback` with nothing to ask for: the base alone, and why. */
        baseOnly?: string
      } & Now
    }
  | { type: 'RecordTrainingStarted'; data: { pipelineRunId: string; runId: string } & Now }
  | {
      type: 'RecordTrainingFinished'
      data: {
        runId: string
        outcome: 'succeeded' | 'failed' | 'cancelled'
        metrics: Record<string, number>
        datasetVersionId: string
        seed: number
        message?: string
      } & Now
    }
  | {
      type: 'Evaluate'
      data: {
        pipelineRunId: string
        /** Both sides scored on the candidate's holdout; null when nothing serves the model. */
        scored: {
          holdout: EvaluationHoldout
          candidate: Record<string, number>
          serving: ServingSide
        } | null
        details?: StoredObject
      } & Now
    }
  | { type: 'Gate'; data: { pipelineRunId: string } & Now }
  | {
      type: 'RecordRegistered'
      data: { pipelineRunId: string; version: number; alias: string } & Now
    }
  | { type: 'RecordWarmed'; data: { pipelineRunId: string; skipped?: string } & Now }
  | {
      type: 'RecordRescoreRequested'
      data: { pipelineRunId: string; batchId: string } & Now
    }
  | {
      type: 'RecordRescored'
      data: {
        pipelineRunId: string
        rows: number
        rowsFailed: number
        result: StoredObject
      } & Now
    }
  | { type: 'Approve'; data: { by: string; reason: string } & Now }
  | { type: 'RecordHandedOver'; data: { pipelineRunId: string; rolloutId: string | null } & Now }
  | {
      type: 'Fail'
      data: { pipelineRunId: string; reason: PipelineFailureReason; message: string } & Now
    }
  | { type: 'Abort'; data: { by: string; reason: string } & Now }

/** A fresh feedback dataset's fate, as feedback's events on `feedback.dataset.<id>` tell it. */
export type FeedbackDatasetOutcome =
  | { status: 'materialized'; datasetVersionId: string; rows: number }
  | { status: 'empty' }
  | { status: 'failed'; error: string }

export function evolvePipeline(state: PipelineState, event: PipelineEvent): PipelineState {
  if (event.type === 'PipelineCreated') {
    const d = event.data
    return {
      status: 'present',
      model: d.model,
      ownerId: d.ownerId,
      config: d.config,
      createdAt: d.createdAt,
      updatedAt: d.createdAt,
      ...(d.requestHash !== undefined ? { requestHash: d.requestHash } : {}),
      runs: 0,
      current: null,
      pin: null,
      seenSources: new Set(),
      lastScheduleSlot: null,
    }
  }
  if (state.status === 'absent') return state
  const run = state.current
  const withRun = (patch: Partial<PipelineRun>): PipelineState =>
    run ? { ...state, current: { ...run, ...patch } } : state
  const seen = (trigger: PipelineTrigger) => ({
    seenSources: trigger.sourceEventId
      ? new Set([...state.seenSources, trigger.sourceEventId])
      : state.seenSources,
    lastScheduleSlot: trigger.slot ?? state.lastScheduleSlot,
  })
  switch (event.type) {
    case 'PipelineUpdated':
      return { ...state, config: event.data.config, updatedAt: event.data.updatedAt }
    case 'PipelineDataSourcePinned': {
      const d = event.data
      return {
        ...state,
        pin:
          d.feedbackDatasetId !== null && d.datasetVersionId !== null
            ? { feedbackDatasetId: d.feedbackDatasetId, datasetVersionId: d.datasetVersionId }
            : null,
        seenSources: new Set([...state.seenSources, d.sourceEventId]),
      }
    }
    case 'PipelineRunStarted': {
      const d = event.data
      return {
        ...state,
        ...seen(d.trigger),
        runs: d.n,
        current: {
          pipelineRunId: d.pipelineRunId,
          n: d.n,
          trigger: d.trigger,
          config: d.config,
          status: 'running',
          startedAt: d.startedAt,
          endedAt: null,
          coalesced: 0,
          feedbackRequest: null,
          dataset: null,
          trainingRunId: null,
          training: null,
          evaluation: null,
          gate: null,
          version: null,
          registeredAt: null,
          warmup: null,
          rescore: null,
          approvedBy: null,
          rolloutId: null,
          failure: null,
        },
      }
    }
    case 'PipelineTriggerCoalesced':
      return {
        ...(withRun({ coalesced: (run?.coalesced ?? 0) + 1 }) as PipelineRecord),
        ...seen(event.data.trigger),
      }
    case 'PipelineTriggerIgnored':
      return { ...state, ...seen(event.data.trigger) }
    case 'PipelineFeedbackRequested':
      return withRun({
        feedbackRequest: {
          feedbackDatasetId: event.data.feedbackDatasetId,
          servingVersion: event.data.servingVersion,
        },
      })
    case 'PipelineDataPrepared': {
      const d = event.data
      return withRun({
        dataset: {
          source: d.source,
          datasetVersionId: d.datasetVersionId,
          datasetVersionIds: d.datasetVersionIds ?? [d.datasetVersionId],
          ...(d.feedbackDatasetId !== undefined ? { feedbackDatasetId: d.feedbackDatasetId } : {}),
          ...(d.feedbackRows !== undefined ? { feedbackRows: d.feedbackRows } : {}),
        },
      })
    }
    case 'PipelineTrainingStarted':
      return withRun({ trainingRunId: event.data.runId })
    case 'PipelineTrainingFinished': {
      const d = event.data
      return withRun({
        training: {
          outcome: d.outcome,
          metrics: d.metrics,
          datasetVersionId: d.datasetVersionId,
          seed: d.seed,
          ...(d.message !== undefined ? { message: d.message } : {}),
        },
      })
    }
    case 'PipelineEvaluated': {
      const d = event.data
      return withRun({
        evaluation: {
          serving: d.serving,
          // Events written before the holdout existed compared recorded metrics.
          holdout: d.holdout ?? null,
          candidate: d.candidate.metrics,
          checks: d.checks,
        },
      })
    }
    case 'PipelineGatePassed':
      return withRun({ gate: { passed: true, reasons: event.data.reasons } })
    case 'PipelineGateFailed':
      return withRun({
        gate: { passed: false, reasons: event.data.reasons },
        status: 'gate_failed',
        endedAt: event.data.at,
      })
    case 'PipelineRegistered':
      return withRun({ version: event.data.version, registeredAt: event.data.at })
    case 'PipelineWarmed':
      return withRun({
        warmup: {
          waitedSeconds: event.data.waitedSeconds,
          ...(event.data.skipped !== undefined ? { skipped: event.data.skipped } : {}),
        },
      })
    case 'PipelineRescoreRequested':
      return withRun({ rescore: { batchId: event.data.batchId, result: null } })
    case 'PipelineRescored':
      return withRun({
        rescore: {
          batchId: event.data.batchId,
          result: {
            rows: event.data.rows,
            rowsFailed: event.data.rowsFailed,
            object: event.data.result,
          },
        },
      })
    case 'PipelineApproved':
      return withRun({ approvedBy: event.data.by })
    case 'PipelineHandedOver':
      return withRun({
        rolloutId: event.data.rolloutId,
        status: 'completed',
        endedAt: event.data.at,
      })
    case 'PipelineRunFailed':
      return withRun({
        status: 'failed',
        endedAt: event.data.at,
        failure: { reason: event.data.reason, message: event.data.message },
      })
    case 'PipelineRunAborted':
      return withRun({
        status: 'aborted',
        endedAt: event.data.at,
        failure: {
          reason: 'aborted',
          message: `aborted by ${event.data.by}: ${event.data.reason}`,
        },
      })
    default: {
      const unknownEvent: never = event
      return unknownEvent
    }
  }
}

/** The candidate side of a run's evaluation (after its training succeeded). */
export function candidateOf(run: PipelineRun): Candidate {
  const training = run.training!
  return {
    runId: run.trainingRunId!,
    datasetVersionId: training.datasetVersionId,
    seed: training.seed,
    trainingMetrics: training.metrics,
  }
}

/** What the worker does next for this run (pure: from the events alone). */
export function nextStep(run: PipelineRun): PipelineStep {
  if (run.status !== 'running') return 'ended'
  if (run.dataset === null) {
    const fresh = run.config.data.source === 'fresh_feedback'
    return fresh && run.feedbackRequest === null ? 'requesting_feedback' : 'preparing_data'
  }
  if (run.trainingRunId === null) return 'submitting_training'
  if (run.training === null) return 'training'
  if (run.training.outcome !== 'succeeded') return 'failing'
  if (run.evaluation === null) return 'evaluating'
  if (run.gate === null) return 'gating'
  if (run.version === null) return 'registering'
  if (run.warmup === null) return 'warming'
  if (run.config.rescore) {
    if (run.rescore === null) return 'requesting_rescore'
    if (run.rescore.result === null) return 'rescoring'
  }
  if (run.config.requireApproval && run.approvedBy === null) return 'awaiting_approval'
  return 'handing_over'
}

export function activeRun(state: PipelineState): PipelineRun | null {
  return state.status === 'present' && state.current?.status === 'running' ? state.current : null
}

export function decidePipeline(command: PipelineCommand, state: PipelineState): PipelineEvent[] {
  if (command.type === 'CreatePipeline') {
    const d = command.data
    if (state.status !== 'absent') {
      if (isRepeatedCreate(state.requestHash, d.requestHash)) return []
      throw new IllegalStateError(
        `model ${d.model} has a pipeline already: update it (PUT /v1/pipelines/${d.model})`,
      )
    }
    return [
      {
        type: 'PipelineCreated',
        data: {
          model: d.model,
          ownerId: d.ownerId,
          config: d.config,
          createdBy: d.by,
          createdAt: d.now.toISOString(),
          ...(d.requestHash !== undefined ? { requestHash: d.requestHash } : {}),
        },
      },
    ]
  }
  if (state.status === 'absent') throw new NotFoundError('pipeline', modelOfCommand(command))
  const model = state.model
  switch (command.type) {
    case 'UpdatePipeline': {
      const d = command.data
      if (JSON.stringify(d.config) === JSON.stringify(state.config)) return []
      return [
        {
          type: 'PipelineUpdated',
          data: { model, config: d.config, updatedBy: d.by, updatedAt: d.now.toISOString() },
        },
      ]
    }
    case 'RecordPin': {
      const d = command.data
      if (state.seenSources.has(d.sourceEventId)) return []
      return [{ type: 'PipelineDataSourcePinned', data: { model, ...d } }]
    }
    case 'Trigger':
      return decideTrigger(state, command.data.trigger, command.data.now)
    case 'Abort': {
      const run = activeRun(state)
      if (!run) throw new IllegalStateError(`pipeline ${model} has no run in progress to abort`)
      const { by, reason, now } = command.data
      return [
        {
          type: 'PipelineRunAborted',
          data: { model, pipelineRunId: run.pipelineRunId, by, reason, at: now.toISOString() },
        },
      ]
    }
    case 'Approve': {
      const run = activeRun(state)
      const { by, reason, now } = command.data
      if (!run || nextStep(run) !== 'awaiting_approval') {
        throw new IllegalStateError(
          run
            ? `pipeline run ${run.pipelineRunId} is not awaiting approval (step: ${nextStep(run)})`
            : `pipeline ${model} has no run in progress`,
        )
      }
      return [
        {
          type: 'PipelineApproved',
          data: { model, pipelineRunId: run.pipelineRunId, by, reason, at: now.toISOString() },
        },
      ]
    }
    case 'RecordTrainingFinished': {
      const d = command.data
      const run = activeRun(state)
      // Another run's outcome, a redelivery, or a run aborted meanwhile: nothing to record.
      if (!run || run.trainingRunId !== d.runId || run.training !== null) return []
      const { now, runId, ...rest } = d
      return [
        {
          type: 'PipelineTrainingFinished',
          data: {
            model,
            pipelineRunId: run.pipelineRunId,
            runId,
            ...rest,
            finishedAt: now.toISOString(),
          },
        },
      ]
    }
    default:
      return decideStep(state, command)
  }
}

/**
 * The steps of a run. Each is decided only in the step it belongs to: a step already done (a
 * redelivery, a restarted worker, a second process) decides nothing, which is what makes the
 * worker's actions safe to repeat.
 */
function decideStep(
  state: PipelineRecord,
  command: Extract<
    PipelineCommand,
    {
      type:
        | 'RecordFeedbackRequested'
        | 'PrepareData'
        | 'RecordTrainingStarted'
        | 'Evaluate'
        | 'Gate'
        | 'RecordRegistered'
        | 'RecordWarmed'
        | 'RecordRescoreRequested'
        | 'RecordRescored'
        | 'RecordHandedOver'
        | 'Fail'
    }
  >,
): PipelineEvent[] {
  const run = state.current
  const { pipelineRunId, now } = command.data
  if (!run || run.pipelineRunId !== pipelineRunId || run.status !== 'running') return []
  const model = state.model
  const at = now.toISOString()
  const step = nextStep(run)
  switch (command.type) {
    case 'RecordFeedbackRequested': {
      if (step !== 'requesting_feedback') return []
      const { feedbackDatasetId, servingVersion } = command.data
      return [
        {
          type: 'PipelineFeedbackRequested',
          data: { model, pipelineRunId, feedbackDatasetId, servingVersion, requestedAt: at },
        },
      ]
    }
    case 'PrepareData': {
      const { baseOnly, feedback } = command.data
      const { data } = run.config
      const base = data.datasetVersionId
      if (baseOnly !== undefined && step === 'requesting_feedback') {
        return [
          {
            type: 'PipelineDataPrepared',
            data: {
              model,
              pipelineRunId,
              source: 'base',
              datasetVersionId: base,
              datasetVersionIds: [base],
              note: baseOnly,
              preparedAt: at,
            },
          },
        ]
      }
      if (step !== 'preparing_data') return []
      if (data.source === 'fresh_feedback') {
        const request = run.feedbackRequest!
        if (feedback === undefined) return []
        const failed = (message: string): PipelineEvent[] => [
          {
            type: 'PipelineRunFailed',
            data: { model, pipelineRunId, reason: 'data_unavailable', message, at },
          },
        ]
        if (feedback.status === 'failed') {
          return failed(
            `feedback dataset ${request.feedbackDatasetId} could not be built: ${feedback.error}`,
          )
        }
        const rows = feedback.status === 'materialized' ? feedback.rows : 0
        if (rows < data.minFeedbackRows) {
          return failed(
            `too few labelled predictions since version ${request.servingVersion}'s release: ` +
              `${rows} in feedback dataset ${request.feedbackDatasetId}, the minimum is ` +
              `${data.minFeedbackRows} (data.minFeedbackRows); nothing new enough to train on`,
          )
        }
        const materialized = feedback as Extract<FeedbackDatasetOutcome, { status: 'materialized' }>
        return [
          {
            type: 'PipelineDataPrepared',
            data: {
              model,
              pipelineRunId,
              source: 'fresh_feedback',
              feedbackDatasetId: request.feedbackDatasetId,
              datasetVersionId: base,
              datasetVersionIds: [base, materialized.datasetVersionId],
              feedbackRows: rows,
              preparedAt: at,
            },
          },
        ]
      }
      const pinned = data.source === 'pinned_feedback' ? state.pin : null
      const version = pinned ? pinned.datasetVersionId : base
      return [
        {
          type: 'PipelineDataPrepared',
          data: {
            model,
            pipelineRunId,
            source: pinned ? 'pinned_feedback' : 'base',
            ...(pinned ? { feedbackDatasetId: pinned.feedbackDatasetId } : {}),
            datasetVersionId: version,
            datasetVersionIds: [version],
            preparedAt: at,
          },
        },
      ]
    }
    case 'RecordTrainingStarted':
      if (step !== 'submitting_training') return []
      return [
        {
          type: 'PipelineTrainingStarted',
          data: { model, pipelineRunId, runId: command.data.runId, startedAt: at },
        },
      ]
    case 'Evaluate': {
      if (step !== 'evaluating') return []
      const candidate = candidateOf(run)
      const { scored, details } = command.data
      const checks = evaluateCandidate(
        run.config.evaluation,
        scored?.candidate ?? {},
        scored?.serving.metrics ?? null,
      )
      return [
        {
          type: 'PipelineEvaluated',
          data: {
            model,
            pipelineRunId,
            candidate: { ...candidate, metrics: scored?.candidate ?? {} },
            serving: scored?.serving ?? null,
            holdout: scored?.holdout ?? null,
            checks,
            ...(details ? { details } : {}),
            evaluatedAt: at,
          },
        },
      ]
    }
    case 'Gate': {
      if (step !== 'gating') return []
      const evaluation = run.evaluation!
      const gate = decideGate(evaluation)
      const data = { model, pipelineRunId, checks: evaluation.checks, reasons: gate.reasons, at }
      return [{ type: gate.passed ? 'PipelineGatePassed' : 'PipelineGateFailed', data }]
    }
    case 'RecordRegistered':
      if (step !== 'registering') return []
      return [
        {
          type: 'PipelineRegistered',
          data: {
            model,
            pipelineRunId,
            version: command.data.version,
            alias: command.data.alias,
            at,
          },
        },
      ]
    case 'RecordWarmed': {
      if (step !== 'warming') return []
      const waitedMs = now.getTime() - Date.parse(run.registeredAt ?? at)
      return [
        {
          type: 'PipelineWarmed',
          data: {
            model,
            pipelineRunId,
            version: run.version!,
            waitedSeconds: Math.max(0, Math.round(waitedMs / 100) / 10),
            ...(command.data.skipped !== undefined ? { skipped: command.data.skipped } : {}),
            at,
          },
        },
      ]
    }
    case 'RecordRescoreRequested':
      if (step !== 'requesting_rescore') return []
      return [
        {
          type: 'PipelineRescoreRequested',
          data: {
            model,
            pipelineRunId,
            version: run.version!,
            datasetVersionId: run.config.rescore!.datasetVersionId,
            batchId: command.data.batchId,
            at,
          },
        },
      ]
    case 'RecordRescored': {
      if (step !== 'rescoring') return []
      const { rows, rowsFailed, result } = command.data
      const batchId = run.rescore!.batchId
      return [
        {
          type: 'PipelineRescored',
          data: { model, pipelineRunId, batchId, rows, rowsFailed, result, at },
        },
      ]
    }
    case 'RecordHandedOver':
      if (step !== 'handing_over') return []
      return [
        {
          type: 'PipelineHandedOver',
          data: {
            model,
            pipelineRunId,
            version: run.version!,
            rolloutId: command.data.rolloutId,
            at,
          },
        },
      ]
    case 'Fail':
      return [
        {
          type: 'PipelineRunFailed',
          data: {
            model,
            pipelineRunId,
            reason: command.data.reason,
            message: command.data.message,
            at,
          },
        },
      ]
    default: {
      const unknownCommand: never = command
      return unknownCommand
    }
  }
}

function decideTrigger(
  state: PipelineRecord,
  trigger: PipelineTrigger,
  now: Date,
): PipelineEvent[] {
  const model = state.model
  const at = now.toISOString()
  if (trigger.sourceEventId !== undefined && state.seenSources.has(trigger.sourceEventId)) return []
  if (
    trigger.slot !== undefined &&
    state.lastScheduleSlot !== null &&
    trigger.slot <= state.lastScheduleSlot
  ) {
    return []
  }
  const run = activeRun(state)
  if (run) {
    return [
      {
        type: 'PipelineTriggerCoalesced',
        data: { model, pipelineRunId: run.pipelineRunId, trigger, coalescedAt: at },
      },
    ]
  }
  const why = ignoredBecause(state.config, trigger)
  if (why !== null) {
    return [{ type: 'PipelineTriggerIgnored', data: { model, trigger, why, ignoredAt: at } }]
  }
  const n = state.runs + 1
  return [
    {
      type: 'PipelineRunStarted',
      data: {
        model,
        pipelineRunId: `${model}.${n}`,
        n,
        trigger,
        config: state.config,
        startedAt: at,
      },
    },
  ]
}

/** Why a trigger starts no run, or null when it does (an admin's manual trigger always does). */
function ignoredBecause(config: PipelineConfig, trigger: PipelineTrigger): string | null {
  if (trigger.kind === 'manual') return null
  if (!config.enabled) return 'the pipeline is disabled'
  switch (trigger.kind) {
    case 'retrain_requested':
      return config.triggers.retrainRequested ? null : 'retrainRequested triggers are off'
    case 'schedule':
      return config.triggers.schedule !== null ? null : 'the pipeline has no schedule'
    case 'labels': {
      const threshold = config.triggers.labelThreshold
      if (threshold === null) return 'the label-count trigger is off'
      const count = trigger.evidence['labels']
      return typeof count === 'number' && count >= threshold
        ? null
        : `${String(count)} new labels, under the threshold of ${threshold}`
    }
  }
}

function modelOfCommand(command: PipelineCommand): string {
  return 'model' in command.data ? String(command.data.model) : 'unknown'
}

export const pipelineDecider = {
  decide: decidePipeline,
  evolve: evolvePipeline,
  initialState: initialPipelineState,
  eventTypes: PIPELINE_EVENT_TYPES,
} satisfies AggregateDecider<PipelineCommand, PipelineEvent, PipelineState>
