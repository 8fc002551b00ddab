import { assertCanWrite, canAccess, requireRole, type Principal } from '@argmax/auth'
import { ForbiddenError, IllegalStateError, NotFoundError, ValidationError } from '@argmax/errors'
import { handleCommand, identifyCreate, loadAggregate, type RecordedEvent } from '@argmax/events'
import { Cron } from 'croner'
import {
  HOLDOUT_METRICS,
  pipelineDecider,
  resolveTrainerParams,
  type PipelineCommand,
  type PipelineConfig,
  type PipelineRecord,
  type PipelineState,
  type PipelineTrigger,
} from '../domain/index.ts'
import { pipelineSubject } from '../streams.ts'
import { cancelTraining, kick, type PipelineDeps } from './pipeline-steps.ts'

/**
 * The commands of retrain pipelines, from the API and from other contexts' events: create,
 * update, show, trigger, approve, abort, and what feedback sends (triggers, pins). Each is
 * decided on the model's pipeline subject; the steps of a run are pipeline-steps.ts'.
 */
export type { PipelineDeps }

export async function createPipeline(
  deps: PipelineDeps,
  principal: Principal,
  input: { model: string; config: PipelineConfig },
  idempotencyKey?: string,
): Promise<{ position: number; state: PipelineRecord }> {
  assertCanWrite(principal)
  assertValidConfig(input.config)
  const { requestHash } = identifyCreate({
    key: idempotencyKey,
    caller: principal.subject,
    scope: `training.pipeline.${input.model}`,
    request: input,
    newId: deps.newId,
  })
  const outcome = await handleCommand(
    deps.store,
    pipelineDecider,
    pipelineSubject(deps.names, input.model),
    {
      type: 'CreatePipeline',
      data: {
        model: input.model,
        ownerId: principal.subject,
        config: input.config,
        by: principal.subject,
        ...(requestHash !== undefined ? { requestHash } : {}),
        now: deps.now(),
      },
    },
    {
      actor: principal,
      guard: (state) => {
        // Someone else's pipeline is not even acknowledged to exist.
        if (state.status === 'present' && !canAccess(principal, state.ownerId, 'read')) {
          throw new IllegalStateError(`model ${input.model} has a pipeline already`)
        }
      },
    },
  )
  return { position: outcome.position, state: outcome.state as PipelineRecord }
}

export async function updatePipeline(
  deps: PipelineDeps,
  principal: Principal,
  model: string,
  config: PipelineConfig,
): Promise<{ position: number; state: PipelineRecord }> {
  assertCanWrite(principal)
  assertValidConfig(config)
  const outcome = await command(
    deps,
    principal,
    model,
    {
      type: 'UpdatePipeline',
      data: { config, by: principal.subject, now: deps.now() },
    },
    'write',
  )
  return { position: outcome.position, state: outcome.state }
}

export interface PipelineTimelineEntry {
  sequence: number
  type: string
  at: string
  actor: string
  data: Record<string, unknown>
}

/** A pipeline and its timeline: every event of its subject, oldest first. */
export async function showPipeline(
  deps: Pick<PipelineDeps, 'store' | 'names'>,
  principal: Principal,
  model: string,
  options: { runs?: 'current' | 'all' } = {},
): Promise<{ state: PipelineRecord; timeline: PipelineTimelineEntry[]; position: number }> {
  const history = await deps.store.load(pipelineSubject(deps.names, model))
  let state: PipelineState = pipelineDecider.initialState
  for (const event of history) state = pipelineDecider.evolve(state, event as never)
  if (state.status === 'absent' || !canAccess(principal, state.ownerId, 'read')) {
    throw new NotFoundError('pipeline', model)
  }
  const current = state.current?.pipelineRunId
  const timeline = history
    .filter(
      (e) => options.runs === 'all' || !current || runOf(e) === undefined || runOf(e) === current,
    )
    .map((e) => ({
      sequence: e.sequence,
      type: e.type,
      at: e.occurredAt,
      actor: e.actor,
      data: e.data as Record<string, unknown>,
    }))
  return { state, timeline, position: history.at(-1)?.sequence ?? 0 }
}

function runOf(event: RecordedEvent): string | undefined {
  const data = event.data as { pipelineRunId?: unknown }
  return typeof data.pipelineRunId === 'string' ? data.pipelineRunId : undefined
}

/** An admin starts a run by hand (coalesced into the active one if there is one). */
export async function triggerPipeline(
  deps: PipelineDeps,
  principal: Principal,
  model: string,
  reason: string,
): Promise<{ position: number; state: PipelineRecord }> {
  requireRole(principal, 'admin')
  const outcome = await command(deps, principal, model, {
    type: 'Trigger',
    data: {
      trigger: {
        kind: 'manual',
        by: principal.subject,
        reason,
        evidence: {},
        at: deps.now().toISOString(),
      },
      now: deps.now(),
    },
  })
  kick(deps, model)
  return { position: outcome.position, state: outcome.state }
}

export async function approvePipeline(
  deps: PipelineDeps,
  principal: Principal,
  model: string,
  reason: string,
): Promise<{ position: number; state: PipelineRecord }> {
  requireRole(principal, 'admin')
  const outcome = await command(deps, principal, model, {
    type: 'Approve',
    data: { by: principal.subject, reason, now: deps.now() },
  })
  kick(deps, model)
  return { position: outcome.position, state: outcome.state }
}

/** Ends the active run; a training run it started is cancelled with it. */
export async function abortPipeline(
  deps: PipelineDeps,
  principal: Principal,
  model: string,
  reason: string,
): Promise<{ position: number; state: PipelineRecord }> {
  requireRole(principal, 'admin')
  const outcome = await command(deps, principal, model, {
    type: 'Abort',
    data: { by: principal.subject, reason, now: deps.now() },
  })
  // The run as it was aborted: a training run it had submitted and not seen end is cancelled.
  const aborted = outcome.state.current
  if (aborted?.trainingRunId && aborted.training === null) {
    await cancelTraining(deps, aborted.trainingRunId)
  }
  return { position: outcome.position, state: outcome.state }
}

async function command(
  deps: PipelineDeps,
  principal: Principal,
  model: string,
  cmd: PipelineCommand,
  access: 'read' | 'write' = 'read',
): Promise<{ position: number; state: PipelineRecord }> {
  const outcome = await handleCommand(
    deps.store,
    pipelineDecider,
    pipelineSubject(deps.names, model),
    cmd,
    {
      actor: principal,
      guard: (state) => {
        if (state.status === 'absent' || !canAccess(principal, state.ownerId, 'read')) {
          throw new NotFoundError('pipeline', model)
        }
        if (access === 'write' && !canAccess(principal, state.ownerId, 'write')) {
          throw new ForbiddenError(`only the owner or an admin changes pipeline ${model}`)
        }
      },
    },
  )
  return { position: outcome.position, state: outcome.state as PipelineRecord }
}

/** Records what feedback sent, for a model that has a pipeline (others are not ours). */
export async function recordFeedbackEvent(
  deps: PipelineDeps,
  model: string,
  cmd: Extract<PipelineCommand, { type: 'Trigger' | 'RecordPin' }>,
): Promise<void> {
  const subject = pipelineSubject(deps.names, model)
  const { state } = await loadAggregate(deps.store, pipelineDecider, subject)
  if (state.status === 'absent') return
  await handleCommand(deps.store, pipelineDecider, subject, cmd, { actor: 'system:feedback' })
  if (cmd.type === 'Trigger') kick(deps, model)
}

export function feedbackTrigger(
  data: {
    trigger: string
    reason: string
    evidence: Record<string, unknown>
    monitorId?: string
    version?: number
  },
  eventId: string,
  at: string,
): PipelineTrigger {
  // A monitor on the count of labels asks for a retrain with that count as its value: it is
  // the label-count trigger, judged against the pipeline's own threshold.
  const labels = data.evidence['metric'] === 'labels' ? data.evidence['value'] : undefined
  return {
    kind: typeof labels === 'number' ? 'labels' : 'retrain_requested',
    by: `system:feedback`,
    reason: data.reason,
    evidence: {
      ...data.evidence,
      source: data.trigger,
      ...(data.monitorId !== undefined ? { monitorId: data.monitorId } : {}),
      ...(data.version !== undefined ? { version: data.version } : {}),
      ...(typeof labels === 'number' ? { labels } : {}),
    },
    sourceEventId: eventId,
    at,
  }
}

/**
 * A configuration's checks beyond its JSON schema: the trainer's parameters (for the task the
 * target will have: either, since the data is only looked at when a run starts), the metrics
 * (those the holdout evaluation computes) and the cron expression.
 */
export function assertValidConfig(config: PipelineConfig): void {
  const { trainer, params } = config.training
  try {
    resolveTrainerParams(trainer, 'regression', params)
  } catch (regression) {
    try {
      resolveTrainerParams(trainer, 'classification', params)
    } catch {
      if (!(regression instanceof ValidationError)) throw regression
      throw new ValidationError(
        regression.message.replace('/params/', '/training/params/'),
        regression.issues.map((i) => ({ ...i, field: `/training${i.field}` })),
      )
    }
  }
  const evaluable: readonly string[] = [
    ...HOLDOUT_METRICS.regression,
    ...HOLDOUT_METRICS.classification,
  ]
  const { evaluation } = config
  for (const [field, metric] of [
    ['/evaluation/metric', evaluation.metric],
    ...evaluation.guards.map((g, i) => [`/evaluation/guards/${i}/metric`, g.metric] as const),
  ] as const) {
    if (!evaluable.includes(metric)) {
      throw ValidationError.field(
        field,
        `${metric} is not a metric the holdout evaluation computes (${evaluable.join(', ')})`,
      )
    }
  }
  const cron = config.triggers.schedule
  if (cron === null) return
  try {
    new Cron(cron, { timezone: 'UTC', paused: true })
  } catch (error) {
    throw ValidationError.field(
      '/triggers/schedule',
      `is not a cron expression: ${(error as Error).message}`,
    )
  }
}
