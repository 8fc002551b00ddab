import {
  ForbiddenError,
  IllegalStateError,
  NotFoundError,
  RateLimitedError,
  UnavailableError,
  ValidationError,
} from '@argmax/errors'
import { handleCommand, loadAggregate } from '@argmax/events'
import { ApiError } from '@argmax/registry-service/client'
import {
  CHALLENGER_ALIAS,
  FEEDBACK_EVENTS,
  type FeedbackDatasetMaterializedData,
  type StoredObject,
} from '@argmax/contracts'
import { putStoredObject } from '@argmax/storage'
import {
  activeRun,
  candidateOf,
  decideGate,
  evaluateCandidate,
  holdoutLeak,
  nextStep,
  type EvaluationHoldout,
  type FeedbackDatasetOutcome,
  type ServingSide,
  pipelineDecider,
  runDecider,
  type PipelineCommand,
  type PipelineFailureReason,
  type PipelineRecord,
  type PipelineRun,
} from '../domain/index.ts'
import { pipelineSubject, runSubject } from '../streams.ts'
import { findDatasetVersion } from '../projections/dataset-versions.queries.ts'
import { servingVersionOf, versionOfRun } from '../projections/registry-versions.queries.ts'
import { cancelRun } from './cancel-run.ts'
import type { TrainingDeps } from './dependencies.ts'
import { EvaluationFailure, evaluateOnHoldout } from './evaluate-holdout.ts'
import { submitRun } from './submit-run.ts'

/**
 * The worker's half of a retrain pipeline: taking a model's active run through its steps (data,
 * training, evaluation, gate, registration, warm-up, re-score, approval, hand-over), each
 * decided on the run's events and each outside action idempotent per pipeline run. The
 * commands people and other contexts send are in pipelines.ts; schedules in pipeline-schedule.ts.
 */

export type PipelineDeps = TrainingDeps

const PIPELINE_ACTOR = 'system:training-pipeline' as const

/** Cancels the training run a pipeline run submitted, unless it already ended. */
export async function cancelTraining(deps: PipelineDeps, runId: string): Promise<void> {
  const { state } = await loadAggregate(deps.store, runDecider, runSubject(deps.names, runId))
  if (state.status !== 'PENDING' && state.status !== 'TRAINING') return
  await cancelRun(deps, { subject: PIPELINE_ACTOR, roles: ['admin'] }, runId)
}

/** Advances a model's run in the background (a failure is logged; the worker retries it). */
export function kick(deps: PipelineDeps, model: string): void {
  void advancePipeline(deps, model).catch((error: unknown) => {
    deps.logger.warn({ model, err: String(error) }, 'pipeline step failed; retried by the worker')
  })
}

/**
 * Drives a model's active run through its steps until it waits (for training, the registry's
 * version, an admin) or ends. Every step is decided on the pipeline's events with the expected
 * sequence, and every outside action is idempotent per pipeline run (the training run's id
 * derives from it; the rollout is started under a key derived from it; moving an alias twice
 * to the same version changes nothing), so a restarted worker, a redelivered event or a second
 * process re-entering a step never does it twice.
 */
export async function advancePipeline(deps: PipelineDeps, model: string): Promise<string> {
  return deps.pipelineQueue.run(model, async () => {
    const subject = pipelineSubject(deps.names, model)
    for (let guard = 0; guard < 20; guard += 1) {
      const { state } = await loadAggregate(deps.store, pipelineDecider, subject)
      const run = activeRun(state)
      if (!run || state.status !== 'present') return 'idle'
      const step = nextStep(run)
      const progressed = await doStep(deps, state, run, step)
      if (!progressed) return step
    }
    return 'busy'
  })
}

async function doStep(
  deps: PipelineDeps,
  pipeline: PipelineRecord,
  run: PipelineRun,
  step: ReturnType<typeof nextStep>,
): Promise<boolean> {
  const { model } = pipeline
  const pipelineRunId = run.pipelineRunId
  const decide = async (cmd: PipelineCommand) => {
    const outcome = await handleCommand(
      deps.store,
      pipelineDecider,
      pipelineSubject(deps.names, model),
      cmd,
      {
        actor: PIPELINE_ACTOR,
      },
    )
    return outcome.written > 0
  }
  const fail = (reason: PipelineFailureReason, message: string) =>
    decide({ type: 'Fail', data: { pipelineRunId, reason, message, now: deps.now() } })
  switch (step) {
    case 'requesting_feedback': {
      const serving = await servingVersionOf(deps.db, model)
      if (serving === null) {
        return decide({
          type: 'PrepareData',
          data: {
            pipelineRunId,
            baseOnly:
              'nothing serves the model yet: there are no labelled predictions since a release, the base version alone is trained on',
            now: deps.now(),
          },
        })
      }
      const base = await findDatasetVersion(deps.db, run.config.data.datasetVersionId)
      let feedbackDatasetId: string
      try {
        feedbackDatasetId = await deps.feedback.requestSinceRelease({
          model,
          format: base?.format === 'jsonl' ? 'jsonl' : 'csv',
          idempotencyKey: `pipeline:${pipelineRunId}`,
        })
      } catch (error) {
        if (error instanceof UnavailableError && !deps.settings.pipelines.feedbackUrl) {
          return fail('data_unavailable', error.message)
        }
        // Feedback has not seen the release yet (its projection of REGISTRY): later, unless
        // it still has not long after (a feedback that does not follow this registry).
        if (error instanceof ApiError && (error.status === 409 || error.status === 404)) {
          const timeoutMs = deps.settings.pipelines.waitTimeoutMs
          if (deps.now().getTime() - Date.parse(run.startedAt) > timeoutMs) {
            return fail(
              'data_unavailable',
              `feedback still refuses a dataset since version ${serving.version}'s release ${timeoutMs / 1000} s after the run started: ${error.message}`,
            )
          }
          deps.logger.info(
            { model, pipelineRunId, err: String(error) },
            'pipeline waits for feedback to know the release',
          )
          return false
        }
        if (isRefusal(error)) return fail('data_unavailable', (error as Error).message)
        throw error
      }
      return decide({
        type: 'RecordFeedbackRequested',
        data: {
          pipelineRunId,
          feedbackDatasetId,
          servingVersion: serving.version,
          now: deps.now(),
        },
      })
    }
    case 'preparing_data': {
      if (run.config.data.source !== 'fresh_feedback') {
        return decide({ type: 'PrepareData', data: { pipelineRunId, now: deps.now() } })
      }
      const feedback = await feedbackDatasetOutcome(deps, run.feedbackRequest!.feedbackDatasetId)
      if (feedback === null) return false // still being written: the sweep looks again
      return decide({ type: 'PrepareData', data: { pipelineRunId, feedback, now: deps.now() } })
    }
    case 'submitting_training': {
      const { training } = run.config
      const extraDatasetVersionIds = run.dataset!.datasetVersionIds.slice(1)
      for (const id of extraDatasetVersionIds) {
        const extra = await findDatasetVersion(deps.db, id)
        // Feedback wrote it; the dataset context registers it a moment later: wait for that.
        if (!extra) return false
        if (extra.status === 'REJECTED' || extra.status === 'ABORTED') {
          return fail(
            'data_unavailable',
            `dataset version ${id} (feedback dataset ${run.dataset!.feedbackDatasetId ?? id}) was ${extra.status.toLowerCase()} by the dataset context: it cannot be trained on`,
          )
        }
      }
      try {
        // The owner's run, under a key derived from the pipeline run: submitted again after a
        // crash, it is the same run.
        const submitted = await submitRun(
          deps,
          { subject: pipeline.ownerId, roles: ['user'] },
          {
            model,
            datasetVersionId: run.dataset!.datasetVersionId,
            ...(extraDatasetVersionIds.length > 0 ? { extraDatasetVersionIds } : {}),
            target: training.target,
            ...(training.features ? { features: training.features } : {}),
            trainer: training.trainer,
            params: training.params,
            seed: training.seed,
          },
          `pipeline:${pipelineRunId}`,
        )
        const recorded = await decide({
          type: 'RecordTrainingStarted',
          data: { pipelineRunId, runId: submitted.runId, now: deps.now() },
        })
        if (!recorded) {
          // Recorded by another process (the same run id), or aborted while it was being
          // submitted: then nobody follows the training run, and it is cancelled.
          const { state } = await loadAggregate(
            deps.store,
            pipelineDecider,
            pipelineSubject(deps.names, model),
          )
          if (activeRun(state)?.trainingRunId !== submitted.runId) {
            await cancelTraining(deps, submitted.runId)
          }
        }
        return recorded
      } catch (error) {
        // A feedback version still validating (409), the owner's quota (429): later.
        if (error instanceof IllegalStateError || error instanceof RateLimitedError) {
          deps.logger.info(
            { model, pipelineRunId, err: String(error) },
            'pipeline waits to submit its training run',
          )
          return false
        }
        if (
          error instanceof NotFoundError ||
          error instanceof ValidationError ||
          error instanceof ForbiddenError
        ) {
          return fail('data_unavailable', (error as Error).message)
        }
        throw error
      }
    }
    case 'training': {
      // The TRAINING consumer records the outcome; this catches it up after a restart too.
      const { state } = await loadAggregate(
        deps.store,
        runDecider,
        runSubject(deps.names, run.trainingRunId!),
      )
      if (state.status === 'absent' || state.status === 'PENDING' || state.status === 'TRAINING')
        return false
      if (state.status === 'DEAD_LETTERED') return false // an admin may still retry it
      const succeeded = state.succeeded
      return decide({
        type: 'RecordTrainingFinished',
        data: {
          runId: run.trainingRunId!,
          outcome:
            state.status === 'READY'
              ? 'succeeded'
              : state.status === 'CANCELLED'
                ? 'cancelled'
                : 'failed',
          metrics: succeeded?.metrics ?? {},
          datasetVersionId: state.queued.dataset.versionId,
          seed: state.queued.seed,
          ...(state.failure
            ? { message: `${state.failure.reason}: ${state.failure.message}` }
            : {}),
          now: deps.now(),
        },
      })
    }
    case 'failing':
      return fail(
        'training_failed',
        `training run ${run.trainingRunId} ended ${run.training!.outcome}${run.training!.message ? `: ${run.training!.message}` : ''}`,
      )
    case 'evaluating': {
      const evaluated = await evaluateStep(deps, model, run)
      if (evaluated.failed !== undefined) return fail('evaluation_failed', evaluated.failed)
      return decide({
        type: 'Evaluate',
        data: { pipelineRunId, ...evaluated.result, now: deps.now() },
      })
    }
    case 'gating':
      return decide({ type: 'Gate', data: { pipelineRunId, now: deps.now() } })
    case 'registering': {
      const version = await versionOfRun(deps.db, model, run.trainingRunId!)
      if (version === null) return false // the registry has not registered the run yet
      try {
        await deps.registry.setAlias(model, CHALLENGER_ALIAS, version)
      } catch (error) {
        if (isRefusal(error)) return fail('registration_failed', (error as Error).message)
        throw error
      }
      return decide({
        type: 'RecordRegistered',
        data: { pipelineRunId, version, alias: CHALLENGER_ALIAS, now: deps.now() },
      })
    }
    case 'warming': {
      const version = run.version!
      if (!deps.inference.configured) {
        return decide({
          type: 'RecordWarmed',
          data: {
            pipelineRunId,
            skipped:
              'no inference gateway configured (ARGMAX_TRAINING_INFERENCE_URL): the release waits for the load instead',
            now: deps.now(),
          },
        })
      }
      const answer = await deps.inference.versionReady(model, version)
      if (answer.ready) {
        return decide({ type: 'RecordWarmed', data: { pipelineRunId, now: deps.now() } })
      }
      const timeoutMs = deps.settings.pipelines.waitTimeoutMs
      if (deps.now().getTime() - Date.parse(run.registeredAt!) > timeoutMs) {
        return fail(
          'warmup_failed',
          `version ${version} of model ${model} was not loaded on any model server within ${timeoutMs / 1000} s of its registration: ${answer.why}`,
        )
      }
      return false // the gateway is loading it: the sweep looks again
    }
    case 'requesting_rescore': {
      const { datasetVersionId } = run.config.rescore!
      const dataset = await findDatasetVersion(deps.db, datasetVersionId)
      if (!dataset) {
        return fail(
          'rescore_failed',
          `dataset version ${datasetVersionId} (rescore.datasetVersionId) is not known to the dataset context`,
        )
      }
      try {
        // The owner's batch, under a key derived from the pipeline run: asked again after a
        // crash, it is the same batch.
        const batch = await deps.inference.requestBatch({
          model,
          version: run.version!,
          dataset: { datasetId: dataset.datasetId, versionId: datasetVersionId },
          ownerId: pipeline.ownerId,
          idempotencyKey: `pipeline:${pipelineRunId}:rescore`,
        })
        return decide({
          type: 'RecordRescoreRequested',
          data: { pipelineRunId, batchId: batch.id, now: deps.now() },
        })
      } catch (error) {
        if (isRefusal(error)) return fail('rescore_failed', (error as Error).message)
        if (error instanceof UnavailableError && !deps.inference.configured) {
          return fail('rescore_failed', error.message)
        }
        throw error
      }
    }
    case 'rescoring': {
      const batch = await deps.inference.batch(run.rescore!.batchId)
      if (batch.status === 'FAILED') {
        return fail(
          'rescore_failed',
          `batch prediction ${batch.id} failed: ${batch.error ?? 'no reason given'}`,
        )
      }
      if (batch.status !== 'SUCCEEDED' || !batch.result) return false // the sweep looks again
      return decide({
        type: 'RecordRescored',
        data: {
          pipelineRunId,
          rows: batch.rowsDone,
          rowsFailed: batch.rowsFailed,
          result: batch.result,
          now: deps.now(),
        },
      })
    }
    case 'awaiting_approval':
      return false
    case 'handing_over': {
      let rolloutId: string | null
      try {
        rolloutId = await deps.registry.handOver({
          model,
          version: run.version!,
          pipelineRunId,
          rollout: run.config.rollout,
          reason: `retrain pipeline run ${pipelineRunId} (${run.trigger.kind}: ${run.trigger.reason})`,
        })
      } catch (error) {
        if (isRefusal(error)) return fail('handover_failed', (error as Error).message)
        throw error
      }
      return decide({
        type: 'RecordHandedOver',
        data: { pipelineRunId, rolloutId, now: deps.now() },
      })
    }
    case 'ended':
      return false
    default: {
      const unknownStep: never = step
      return unknownStep
    }
  }
}

/**
 * The evaluate step's work: with a version serving, both it and the candidate are scored on the
 * candidate's holdout, and the comparison in full goes to the models bucket beside the event
 * (`pipelines/<model>/<run>/evaluation.json`: the same bytes again when a restarted step runs
 * it again — nothing in it depends on when). A candidate without a holdout, or a serving
 * version whose artifact does not load, fails the run with the reason.
 */
async function evaluateStep(
  deps: PipelineDeps,
  model: string,
  run: PipelineRun,
): Promise<
  | { failed: string; result?: never }
  | {
      failed?: never
      result: {
        scored: {
          holdout: EvaluationHoldout
          candidate: Record<string, number>
          serving: ServingSide
        } | null
        details: StoredObject
      }
    }
> {
  const serving = await servingVersionOf(deps.db, model)
  const candidate = candidateOf(run)
  let scored: {
    holdout: EvaluationHoldout
    candidate: Record<string, number>
    serving: ServingSide
  } | null = null
  if (serving !== null) {
    const leak = holdoutLeak(serving, {
      datasetVersionIds: run.dataset!.datasetVersionIds,
      seed: candidate.seed,
    })
    if (leak !== null) return { failed: leak }
    const { state } = await loadAggregate(
      deps.store,
      runDecider,
      runSubject(deps.names, candidate.runId),
    )
    const artifacts = state.status === 'absent' ? undefined : state.succeeded?.artifacts
    if (!artifacts?.holdout) {
      return {
        failed:
          `training run ${candidate.runId} wrote no holdout.jsonl: the candidate cannot be ` +
          `scored against version ${serving.version} on the same rows`,
      }
    }
    try {
      const result = await evaluateOnHoldout(deps, {
        holdout: artifacts.holdout,
        candidate: {
          label: `the candidate (training run ${candidate.runId})`,
          model: artifacts.model,
          signature: artifacts.signature,
        },
        serving: {
          label: `the serving version ${serving.version}`,
          model: serving.artifact,
          signature: serving.signature,
        },
      })
      scored = {
        holdout: result.holdout,
        candidate: result.candidate,
        serving: {
          version: serving.version,
          artifact: serving.artifact,
          metrics: result.serving,
          recordedMetrics: serving.metrics,
        },
      }
    } catch (error) {
      if (error instanceof EvaluationFailure) return { failed: error.message }
      throw error
    }
  }
  const checks = evaluateCandidate(
    run.config.evaluation,
    scored?.candidate ?? {},
    scored?.serving.metrics ?? null,
  )
  const details = await putStoredObject(deps.s3, {
    bucket: deps.bucket,
    key: `pipelines/${model}/${run.pipelineRunId}/evaluation.json`,
    contentType: 'application/json',
    body: Buffer.from(
      JSON.stringify(
        {
          pipelineRunId: run.pipelineRunId,
          rule: run.config.evaluation,
          holdout: scored?.holdout ?? null,
          candidate: { ...candidate, metrics: scored?.candidate ?? {} },
          serving: scored?.serving ?? null,
          checks,
          gate: decideGate({ serving: scored?.serving ?? null, checks }),
        },
        null,
        2,
      ),
    ),
  })
  return { result: { scored, details } }
}

/**
 * What became of a feedback dataset, from feedback's own events on `feedback.dataset.<id>`
 * (event-carried, as every other context's state training uses); null while it is being
 * written.
 */
async function feedbackDatasetOutcome(
  deps: PipelineDeps,
  feedbackDatasetId: string,
): Promise<FeedbackDatasetOutcome | null> {
  const events = await deps.store.load(
    `${deps.settings.pipelines.feedbackNames.root}.dataset.${feedbackDatasetId}`,
  )
  for (const event of events) {
    if (event.type === FEEDBACK_EVENTS.datasetMaterialized) {
      const d = event.data as FeedbackDatasetMaterializedData
      return { status: 'materialized', datasetVersionId: d.target.versionId, rows: d.rowCount }
    }
    if (event.type === 'FeedbackDatasetEmpty') return { status: 'empty' }
    if (event.type === 'FeedbackDatasetFailed') {
      return { status: 'failed', error: String((event.data as { error?: unknown }).error) }
    }
  }
  return null
}

/** The registry refused (4xx other than 429): retrying the same call changes nothing. */
function isRefusal(error: unknown): boolean {
  return (
    error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429
  )
}
