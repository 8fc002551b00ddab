import type { Release } from '@argmax/contracts'
import { IllegalStateError, NotFoundError, ValidationError, type FieldIssue } from '@argmax/errors'
import { isRepeatedCreate, type AggregateDecider } from '@argmax/events'
import {
  insufficientTraffic,
  isQualityMetric,
  judgeStep,
  QUALITY_METRICS,
  type Judgement,
  type RolloutCriteria,
  type StepSignals,
} from './rollout-judgement.ts'
import { ROLLOUT_EVENT_TYPES, type RolloutEvent } from './rollout.events.ts'

export type RolloutStatus =
  | 'running'
  | 'paused'
  | 'awaiting_approval'
  | 'promoting'
  | 'reverting'
  | 'promoted'
  | 'rolled_back'
  | 'aborted'

export const ACTIVE_ROLLOUT_STATUSES = [
  'running',
  'paused',
  'awaiting_approval',
  'promoting',
  'reverting',
] as const satisfies readonly RolloutStatus[]

export const MAX_ROLLOUT_STEPS = 10

export interface Rollout {
  rolloutId: string
  model: string
  candidate: number
  stable: number
  steps: number[]
  criteria: RolloutCriteria
  requireApproval: boolean
  startedBy: string
  startedAt: string
  reason: string
  status: RolloutStatus
  /** Index in `steps` of the step in progress (or last passed). */
  step: number
  /** When the release began sending the current step's share (null: not yet applied). */
  stepStartedAt: string | null
  /** Where the current step's evidence starts: the step's start, or the last resume. */
  windowStartedAt: string | null
  /** While reverting: how it will end, and the stable version the release gets back. */
  reverting: 'rolled_back' | 'aborted' | null
  restore: number | null
  /** Leave the release as it is when reverting (the rollout could not drive it). */
  leaveRelease: boolean
  /** After promotion: the stable version before, for a one-step rollback. */
  previousStable: number | null
  updatedAt: string
  endedAt: string | null
  requestHash: string | undefined
}

export interface RolloutsState {
  /** Rollouts the model ever had (`<model>.1`, `<model>.2` …). */
  count: number
  rollouts: Record<string, Rollout>
  /** The one rollout in progress (null: none). */
  active: string | null
  /** The most recent rollout, the only one a rollback after promotion may undo. */
  last: string | null
  /** Idempotency id of each create → the rollout it made. */
  keys: Record<string, string>
}

export const initialRolloutsState: RolloutsState = {
  count: 0,
  rollouts: {},
  active: null,
  last: null,
  keys: {},
}

interface Operator {
  model: string
  rolloutId: string
  by: string
  reason: string
  now: Date
}

export type RolloutCommand =
  | {
      type: 'StartRollout'
      data: {
        model: string
        candidate: number
        /** The release's stable version now (null: the model serves nothing). */
        stable: number | null
        steps: number[]
        criteria: RolloutCriteria
        requireApproval: boolean
        startedBy: string
        reason: string
        now: Date
        idempotencyId?: string
        requestHash?: string
      }
    }
  | {
      /** The release now serves the step's share (done by the rollout worker). */
      type: 'MarkStepStarted'
      data: {
        model: string
        rolloutId: string
        step: number
        release: Release
        releasePosition: number
        now: Date
      }
    }
  | {
      type: 'JudgeStep'
      data: { model: string; rolloutId: string; step: number; signals: StepSignals; now: Date }
    }
  | { type: 'PauseRollout'; data: Operator }
  | { type: 'ResumeRollout'; data: Operator }
  | { type: 'ApproveRollout'; data: Operator }
  | { type: 'AbortRollout'; data: Operator }
  | {
      type: 'RollbackRollout'
      data: Operator & { /** The release's stable version now. */ currentStable: number | null }
    }
  | {
      /**
       * The release cannot be driven (changed by hand under the rollout, or the step's change
       * refused): the rollout stops and leaves the release alone.
       */
      type: 'StopRollout'
      data: Operator
    }
  | {
      type: 'MarkPromoted'
      data: {
        model: string
        rolloutId: string
        release: Release
        releasePosition: number
        now: Date
      }
    }
  | {
      type: 'MarkReverted'
      data: {
        model: string
        rolloutId: string
        release: Release | null
        releasePosition: number | null
        annotationId?: string
        now: Date
      }
    }

/** When an event happened, by the clock of the decision it records. */
export function rolloutEventTime(event: RolloutEvent): string {
  switch (event.type) {
    case 'RolloutStarted':
      return event.data.startedAt
    case 'RolloutStepStarted':
      return event.data.startedAt
    case 'RolloutStepJudged':
      return event.data.judgedAt
    case 'RolloutPromoted':
      return event.data.promotedAt
    case 'RolloutReverted':
      return event.data.revertedAt
    case 'RolloutPaused':
    case 'RolloutResumed':
    case 'RolloutApproved':
    case 'RolloutAborted':
    case 'RolloutRollbackRequested':
      return event.data.at
    default: {
      const unknown: never = event
      return unknown
    }
  }
}

export function rolloutId(model: string, n: number): string {
  return `${model}.${n}`
}

/** The model a rollout id belongs to (`movies.3` → `movies`); model names have no dots. */
export function modelOfRollout(id: string): string | null {
  const match = /^([a-z0-9][a-z0-9-]{0,62})\.([1-9][0-9]{0,9})$/.exec(id)
  return match ? match[1]! : null
}

export function isActiveRollout(rollout: Pick<Rollout, 'status'>): boolean {
  return (ACTIVE_ROLLOUT_STATUSES as readonly string[]).includes(rollout.status)
}

/** One rollout's state after one of its events (also what the projection stores). */
export function evolveOneRollout(rollout: Rollout | undefined, event: RolloutEvent): Rollout {
  if (event.type === 'RolloutStarted') {
    const d = event.data
    return {
      rolloutId: d.rolloutId,
      model: d.model,
      candidate: d.candidate,
      stable: d.stable,
      steps: d.steps,
      criteria: d.criteria,
      requireApproval: d.requireApproval,
      startedBy: d.startedBy,
      startedAt: d.startedAt,
      reason: d.reason,
      status: 'running',
      step: 0,
      stepStartedAt: null,
      windowStartedAt: null,
      reverting: null,
      restore: null,
      leaveRelease: false,
      previousStable: null,
      updatedAt: d.startedAt,
      endedAt: null,
      requestHash: d.requestHash,
    }
  }
  if (!rollout) throw new Error(`${event.type} of ${event.data.rolloutId} before RolloutStarted`)
  switch (event.type) {
    case 'RolloutStepStarted':
      return {
        ...rollout,
        step: event.data.step,
        stepStartedAt: event.data.startedAt,
        windowStartedAt: event.data.startedAt,
        updatedAt: event.data.startedAt,
      }
    case 'RolloutStepJudged': {
      const d = event.data
      const base = { ...rollout, updatedAt: d.judgedAt }
      switch (d.next) {
        case 'step':
          return { ...base, step: d.step + 1, stepStartedAt: null, windowStartedAt: null }
        case 'approval':
          return { ...base, status: 'awaiting_approval' }
        case 'promote':
          return { ...base, status: 'promoting' }
        case 'rollback':
          return { ...base, status: 'reverting', reverting: 'rolled_back', restore: rollout.stable }
        default: {
          const unknown: never = d.next
          return unknown
        }
      }
    }
    case 'RolloutPaused':
      return { ...rollout, status: 'paused', updatedAt: event.data.at }
    case 'RolloutResumed':
      return {
        ...rollout,
        status: 'running',
        windowStartedAt: rollout.stepStartedAt === null ? null : event.data.at,
        updatedAt: event.data.at,
      }
    case 'RolloutApproved':
      return event.data.next === 'promote'
        ? { ...rollout, status: 'promoting', updatedAt: event.data.at }
        : {
            ...rollout,
            status: 'running',
            step: rollout.step + 1,
            stepStartedAt: null,
            windowStartedAt: null,
            updatedAt: event.data.at,
          }
    case 'RolloutAborted':
      return {
        ...rollout,
        status: 'reverting',
        reverting: 'aborted',
        restore: rollout.stable,
        leaveRelease: event.data.leaveRelease === true,
        updatedAt: event.data.at,
      }
    case 'RolloutRollbackRequested':
      return {
        ...rollout,
        status: 'reverting',
        reverting: 'rolled_back',
        restore: event.data.restore,
        updatedAt: event.data.at,
        // A promotion rolled back is in progress again until the release is restored.
        endedAt: null,
      }
    case 'RolloutPromoted':
      return {
        ...rollout,
        status: 'promoted',
        previousStable: event.data.previousStable,
        updatedAt: event.data.promotedAt,
        endedAt: event.data.promotedAt,
      }
    case 'RolloutReverted':
      return {
        ...rollout,
        status: event.data.outcome,
        reverting: null,
        updatedAt: event.data.revertedAt,
        endedAt: event.data.revertedAt,
      }
    default: {
      const unknown: never = event
      return unknown
    }
  }
}

export function evolveRollouts(state: RolloutsState, event: RolloutEvent): RolloutsState {
  const id = event.data.rolloutId
  const rollout = evolveOneRollout(state.rollouts[id], event)
  const rollouts = { ...state.rollouts, [id]: rollout }
  if (event.type === 'RolloutStarted') {
    const key = event.data.idempotencyId
    return {
      count: state.count + 1,
      rollouts,
      active: id,
      last: id,
      keys: key ? { ...state.keys, [key]: id } : state.keys,
    }
  }
  const active = isActiveRollout(rollout) ? id : state.active === id ? null : state.active
  return { ...state, rollouts, active }
}

export function decideRollout(command: RolloutCommand, state: RolloutsState): RolloutEvent[] {
  switch (command.type) {
    case 'StartRollout': {
      const d = command.data
      const known = d.idempotencyId ? state.keys[d.idempotencyId] : undefined
      if (known && isRepeatedCreate(state.rollouts[known]?.requestHash, d.requestHash)) return []
      assertStart(d)
      if (state.active) {
        throw new IllegalStateError(
          `model ${d.model} already has a rollout in progress (${state.active}): ` +
            'abort it or wait for it to end',
        )
      }
      if (d.stable === null) {
        throw new IllegalStateError(
          `model ${d.model} has no release: release a stable version before a canary of another`,
        )
      }
      if (d.stable === d.candidate) {
        throw ValidationError.field('candidate', `version ${d.candidate} is already the stable one`)
      }
      return [
        {
          type: 'RolloutStarted',
          data: {
            rolloutId: rolloutId(d.model, state.count + 1),
            model: d.model,
            candidate: d.candidate,
            stable: d.stable,
            steps: d.steps,
            criteria: d.criteria,
            requireApproval: d.requireApproval,
            startedBy: d.startedBy,
            reason: d.reason,
            startedAt: d.now.toISOString(),
            ...(d.idempotencyId ? { idempotencyId: d.idempotencyId } : {}),
            ...(d.requestHash ? { requestHash: d.requestHash } : {}),
          },
        },
      ]
    }
    case 'MarkStepStarted': {
      const d = command.data
      const r = find(state, d.model, d.rolloutId)
      // Already recorded (a retried tick) or overtaken by an operator: nothing to add.
      if (r.status !== 'running' || r.step !== d.step || r.stepStartedAt !== null) return []
      return [
        {
          type: 'RolloutStepStarted',
          data: {
            rolloutId: r.rolloutId,
            model: r.model,
            step: d.step,
            percent: r.steps[d.step]!,
            release: d.release,
            releasePosition: d.releasePosition,
            startedAt: d.now.toISOString(),
          },
        },
      ]
    }
    case 'JudgeStep': {
      const d = command.data
      const r = find(state, d.model, d.rolloutId)
      if (r.status !== 'running' || r.step !== d.step || !isDue(r, d.now)) return []
      let judgement = judgeStep(d.signals, r.criteria)
      if (judgement.verdict === 'wait') {
        // Waiting for traffic ends at the step's deadline: a rollout nobody calls must not
        // hold its canary forever.
        const deadline = r.criteria.stepDeadlineSeconds
        const held = (d.now.getTime() - Date.parse(r.windowStartedAt!)) / 1000
        if (deadline === undefined || held < deadline) return []
        judgement = insufficientTraffic(judgement, held, deadline)
      }
      const last = d.step === r.steps.length - 1
      const next =
        judgement.verdict === 'fail'
          ? 'rollback'
          : r.requireApproval
            ? 'approval'
            : last
              ? 'promote'
              : 'step'
      return [judged(r, d.step, d.signals, judgement, next, d.now)]
    }
    case 'PauseRollout': {
      const d = command.data
      const r = find(state, d.model, d.rolloutId)
      if (r.status === 'paused') return []
      assertStatus(r, ['running'], 'paused')
      return [{ type: 'RolloutPaused', data: operator(r, d) }]
    }
    case 'ResumeRollout': {
      const d = command.data
      const r = find(state, d.model, d.rolloutId)
      if (r.status === 'running') return []
      assertStatus(r, ['paused'], 'resumed')
      return [{ type: 'RolloutResumed', data: operator(r, d) }]
    }
    case 'ApproveRollout': {
      const d = command.data
      const r = find(state, d.model, d.rolloutId)
      assertStatus(r, ['awaiting_approval'], 'approved')
      const next = r.step === r.steps.length - 1 ? 'promote' : 'step'
      return [{ type: 'RolloutApproved', data: { ...operator(r, d), next } }]
    }
    case 'AbortRollout': {
      const d = command.data
      const r = find(state, d.model, d.rolloutId)
      if (r.status === 'reverting' && r.reverting === 'aborted') return []
      assertStatus(r, ['running', 'paused', 'awaiting_approval'], 'aborted')
      return [{ type: 'RolloutAborted', data: operator(r, d) }]
    }
    case 'StopRollout': {
      const d = command.data
      const r = find(state, d.model, d.rolloutId)
      if (!['running', 'paused', 'awaiting_approval', 'promoting'].includes(r.status)) return []
      return [
        { type: 'RolloutAborted', data: { ...operator(r, d), leaveRelease: true } },
        {
          type: 'RolloutReverted',
          data: {
            rolloutId: r.rolloutId,
            model: r.model,
            outcome: 'aborted',
            release: null,
            releasePosition: null,
            revertedAt: d.now.toISOString(),
          },
        },
      ]
    }
    case 'RollbackRollout': {
      const d = command.data
      const r = find(state, d.model, d.rolloutId)
      if (r.status === 'reverting' && r.reverting === 'rolled_back') return []
      if (r.status === 'promoted') {
        if (state.last !== r.rolloutId || state.active !== null) {
          throw new IllegalStateError(
            `rollout ${r.rolloutId} is not the model's latest: only the latest promotion can be rolled back`,
          )
        }
        if (d.currentStable !== r.candidate || r.previousStable === null) {
          throw new IllegalStateError(
            `the release of ${r.model} no longer serves version ${r.candidate} as stable: ` +
              'change the release instead',
          )
        }
        return [
          {
            type: 'RolloutRollbackRequested',
            data: { ...operator(r, d), from: 'promoted', restore: r.previousStable },
          },
        ]
      }
      assertStatus(r, ['running', 'paused', 'awaiting_approval'], 'rolled back')
      return [
        {
          type: 'RolloutRollbackRequested',
          data: { ...operator(r, d), from: 'canary', restore: r.stable },
        },
      ]
    }
    case 'MarkPromoted': {
      const d = command.data
      const r = find(state, d.model, d.rolloutId)
      if (r.status !== 'promoting') return []
      return [
        {
          type: 'RolloutPromoted',
          data: {
            rolloutId: r.rolloutId,
            model: r.model,
            candidate: r.candidate,
            release: d.release,
            releasePosition: d.releasePosition,
            previousStable: r.stable,
            promotedAt: d.now.toISOString(),
          },
        },
      ]
    }
    case 'MarkReverted': {
      const d = command.data
      const r = find(state, d.model, d.rolloutId)
      if (r.status !== 'reverting' || r.reverting === null) return []
      return [
        {
          type: 'RolloutReverted',
          data: {
            rolloutId: r.rolloutId,
            model: r.model,
            candidate: r.candidate,
            outcome: r.reverting,
            release: d.release,
            releasePosition: d.releasePosition,
            ...(d.annotationId ? { annotationId: d.annotationId } : {}),
            revertedAt: d.now.toISOString(),
          },
        },
      ]
    }
    default: {
      const unknown: never = command
      return unknown
    }
  }
}

/** What the worker must do next for a rollout at `now`: acts on the release, or a judgement. */
export type RolloutAction =
  | { kind: 'apply_step'; step: number; percent: number }
  | { kind: 'judge'; step: number; from: Date }
  | { kind: 'promote' }
  | { kind: 'revert'; outcome: 'rolled_back' | 'aborted'; restore: number; leaveRelease: boolean }
  | { kind: 'none' }

export function nextRolloutAction(r: Rollout, now: Date): RolloutAction {
  switch (r.status) {
    case 'running':
      if (r.stepStartedAt === null) {
        return { kind: 'apply_step', step: r.step, percent: r.steps[r.step]! }
      }
      return isDue(r, now)
        ? { kind: 'judge', step: r.step, from: new Date(r.windowStartedAt!) }
        : { kind: 'none' }
    case 'promoting':
      return { kind: 'promote' }
    case 'reverting':
      return {
        kind: 'revert',
        outcome: r.reverting ?? 'aborted',
        restore: r.restore ?? r.stable,
        leaveRelease: r.leaveRelease,
      }
    case 'paused':
    case 'awaiting_approval':
    case 'promoted':
    case 'rolled_back':
    case 'aborted':
      return { kind: 'none' }
    default: {
      const unknown: never = r.status
      return unknown
    }
  }
}

/** The step's window has been held for its full length. */
function isDue(r: Rollout, now: Date): boolean {
  if (r.windowStartedAt === null) return false
  return now.getTime() >= Date.parse(r.windowStartedAt) + r.criteria.windowSeconds * 1000
}

function judged(
  r: Rollout,
  step: number,
  signals: StepSignals,
  judgement: Judgement,
  next: 'step' | 'approval' | 'promote' | 'rollback',
  now: Date,
): RolloutEvent {
  return {
    type: 'RolloutStepJudged',
    data: {
      rolloutId: r.rolloutId,
      model: r.model,
      step,
      percent: r.steps[step]!,
      verdict: judgement.verdict === 'fail' ? 'fail' : 'pass',
      signals,
      checks: judgement.checks,
      reasons: judgement.reasons,
      next,
      judgedAt: now.toISOString(),
    },
  }
}

function operator(r: Rollout, d: Operator) {
  return {
    rolloutId: r.rolloutId,
    model: r.model,
    by: d.by,
    reason: d.reason,
    at: d.now.toISOString(),
  }
}

function find(state: RolloutsState, model: string, id: string): Rollout {
  const found = state.rollouts[id]
  if (!found) throw new NotFoundError('rollout', id)
  if (found.model !== model) throw new NotFoundError('rollout', id)
  return found
}

function assertStatus(r: Rollout, allowed: RolloutStatus[], verb: string): void {
  if (!allowed.includes(r.status)) {
    throw new IllegalStateError(
      `rollout ${r.rolloutId} is ${r.status.replace('_', ' ')}: it cannot be ${verb} ` +
        `(only when ${allowed.map((s) => s.replace('_', ' ')).join(' or ')})`,
    )
  }
}

function assertStart(d: {
  steps: number[]
  criteria: RolloutCriteria
  reason: string
  candidate: number
}): void {
  const issues: FieldIssue[] = []
  const add = (field: string, message: string) => issues.push({ field, message })
  if (!Number.isInteger(d.candidate) || d.candidate < 1)
    add('candidate', 'must be a version number')
  if (d.steps.length === 0 || d.steps.length > MAX_ROLLOUT_STEPS) {
    add('steps', `must list 1 to ${MAX_ROLLOUT_STEPS} percentages`)
  } else {
    d.steps.forEach((p, i) => {
      if (!Number.isInteger(p) || p < 1 || p > 100)
        add(`steps/${i}`, 'must be a whole percentage from 1 to 100')
      else if (i > 0 && p <= d.steps[i - 1]!)
        add(`steps/${i}`, 'must be larger than the step before')
    })
    if (d.steps.at(-1) !== 100) add(`steps/${d.steps.length - 1}`, 'the last step must be 100')
  }
  const c = d.criteria
  const inRange = (field: string, value: number, min: number, max: number) => {
    if (!Number.isFinite(value) || value < min || value > max) {
      add(`criteria/${field}`, `must be from ${min} to ${max}`)
    }
  }
  inRange('windowSeconds', c.windowSeconds, 1, 7 * 24 * 3600)
  inRange('minRequests', c.minRequests, 1, 1e9)
  inRange('maxErrorRate', c.maxErrorRate, 0, 1)
  inRange('maxErrorRateIncrease', c.maxErrorRateIncrease, 0, 1)
  inRange('maxP99Ratio', c.maxP99Ratio, 1, 100)
  inRange('p99SlackMs', c.p99SlackMs, 0, 60_000)
  if (c.stepDeadlineSeconds !== undefined) {
    inRange('stepDeadlineSeconds', c.stepDeadlineSeconds, 1, 30 * 24 * 3600)
    if (c.stepDeadlineSeconds < c.windowSeconds) {
      add(
        'criteria/stepDeadlineSeconds',
        'must be at least windowSeconds (a step is held that long)',
      )
    }
  }
  if (c.quality) {
    const metric = c.quality.metric
    if (!isQualityMetric(metric)) {
      add('criteria/quality/metric', `must be one of ${Object.keys(QUALITY_METRICS).join(', ')}`)
    } else if (c.quality.direction !== QUALITY_METRICS[metric].direction) {
      add(
        'criteria/quality/direction',
        `${metric} is ${QUALITY_METRICS[metric].direction.replaceAll('_', ' ')}`,
      )
    }
    inRange('quality/minLabels', c.quality.minLabels, 1, 1e9)
    inRange('quality/maxDegradation', c.quality.maxDegradation, 0, 10)
  }
  if (d.reason.trim() === '') add('reason', 'must say why the candidate is rolled out')
  if (issues.length > 0) {
    throw ValidationError.of(issues)
  }
}

export const rolloutDecider = {
  decide: decideRollout,
  evolve: evolveRollouts,
  initialState: initialRolloutsState,
  eventTypes: ROLLOUT_EVENT_TYPES,
} satisfies AggregateDecider<RolloutCommand, RolloutEvent, RolloutsState>
