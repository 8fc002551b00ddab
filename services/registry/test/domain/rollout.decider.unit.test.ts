import { IllegalStateError, NotFoundError, ValidationError } from '@argmax/errors'
import { deciderSpec } from '@argmax/events'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_ROLLOUT_CRITERIA,
  evolveRollouts,
  initialRolloutsState,
  modelOfRollout,
  nextRolloutAction,
  rolloutDecider,
  type RolloutCommand,
  type RolloutEvent,
  type StepSignals,
} from '../../src/domain/index.ts'

const t0 = new Date('2026-12-01T12:00:00.000Z')
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000)
const rollouts = deciderSpec(rolloutDecider)
const criteria = { ...DEFAULT_ROLLOUT_CRITERIA, windowSeconds: 600, minRequests: 100 }
const id = 'movies.1'

const start = (extra: Partial<Extract<RolloutCommand, { type: 'StartRollout' }>['data']> = {}) =>
  ({
    type: 'StartRollout',
    data: {
      model: 'movies',
      candidate: 2,
      stable: 1,
      steps: [10, 50, 100],
      criteria,
      requireApproval: false,
      startedBy: 'alice',
      reason: 'v2 beats v1 on the holdout',
      now: t0,
      ...extra,
    },
  }) as const satisfies RolloutCommand

const started = (requireApproval = false): RolloutEvent => ({
  type: 'RolloutStarted',
  data: {
    rolloutId: id,
    model: 'movies',
    candidate: 2,
    stable: 1,
    steps: [10, 50, 100],
    criteria,
    requireApproval,
    startedBy: 'alice',
    reason: 'v2 beats v1 on the holdout',
    startedAt: t0.toISOString(),
  },
})
const stepStarted = (step: number, minute: number): RolloutEvent => ({
  type: 'RolloutStepStarted',
  data: {
    rolloutId: id,
    model: 'movies',
    step,
    percent: [10, 50, 100][step]!,
    release: { stable: 1, canary: { version: 2, percent: [10, 50, 100][step]! } },
    releasePosition: 10 + step,
    startedAt: at(minute).toISOString(),
  },
})
const signals = (errors: number, minute: number, from: number): StepSignals => ({
  from: at(from).toISOString(),
  to: at(minute).toISOString(),
  candidate: { requests: 200, errors, p99LatencyMs: 20 },
  stable: { requests: 1800, errors: 0, p99LatencyMs: 20 },
})
const judge = (step: number, errors: number, minute: number, from = minute - 10) =>
  ({
    type: 'JudgeStep',
    data: {
      model: 'movies',
      rolloutId: id,
      step,
      signals: signals(errors, minute, from),
      now: at(minute),
    },
  }) as const satisfies RolloutCommand
/** The judgement a step gets from its window's signals (decided, as the worker would). */
const judged = (
  step: number,
  verdict: 'pass' | 'fail',
  next: 'step' | 'approval' | 'promote' | 'rollback',
  minute: number,
): RolloutEvent => {
  const state = [started(next === 'approval'), stepStarted(step, minute - 10)].reduce(
    evolveRollouts,
    initialRolloutsState,
  )
  const [event] = rolloutDecider.decide(judge(step, verdict === 'pass' ? 0 : 50, minute), state)
  expect(event).toMatchObject({ data: { verdict } })
  return { ...event!, data: { ...event!.data, next } } as RolloutEvent
}
const op = (minute: number, by = 'root', reason = 'looked at the dashboards') => ({
  model: 'movies',
  rolloutId: id,
  by,
  reason,
  now: at(minute),
})

describe('rollout decider', () => {
  it('starts a rollout of the candidate against the stable version, numbered per model', () => {
    rollouts.given([]).when(start()).then([started()])
  })

  it('refuses a second active rollout of a model', () => {
    rollouts
      .given([started()])
      .when(start({ now: at(1) }))
      .thenThrows(IllegalStateError, /already has a rollout in progress \(movies\.1\)/)
  })

  it('answers a retried create with the same idempotency id with nothing new', () => {
    const first = {
      ...started(),
      data: { ...started().data, idempotencyId: 'k', requestHash: 'h' },
    } as RolloutEvent
    rollouts
      .given([first])
      .when(start({ idempotencyId: 'k', requestHash: 'h' }))
      .then([])
  })

  it('refuses bad steps, criteria, a candidate that is the stable one, a model with no release', () => {
    rollouts
      .given([])
      .when(start({ steps: [50, 10, 100] }))
      .thenThrows(ValidationError, /steps\/1/)
    rollouts
      .given([])
      .when(start({ steps: [10, 50] }))
      .thenThrows(ValidationError, /last step must be 100/)
    rollouts
      .given([])
      .when(start({ criteria: { ...criteria, maxErrorRate: 2 } }))
      .thenThrows(ValidationError, /criteria\/maxErrorRate/)
    const quality = {
      metric: 'mae',
      direction: 'lower_is_better',
      minLabels: 50,
      maxDegradation: 0.05,
    } as const
    rollouts
      .given([])
      .when(start({ criteria: { ...criteria, quality: { ...quality, metric: 'r2' } } }))
      .thenThrows(
        ValidationError,
        /criteria\/quality\/metric: must be one of mae, rmse, accuracy, log_loss/,
      )
    rollouts
      .given([])
      .when(
        start({
          criteria: { ...criteria, quality: { ...quality, direction: 'higher_is_better' } },
        }),
      )
      .thenThrows(ValidationError, /criteria\/quality\/direction: mae is lower is better/)
    rollouts
      .given([])
      .when(start({ criteria: { ...criteria, quality: { ...quality, minLabels: 0 } } }))
      .thenThrows(ValidationError, /criteria\/quality\/minLabels/)
    rollouts
      .given([])
      .when(start({ candidate: 1 }))
      .thenThrows(ValidationError, /already the stable/)
    rollouts
      .given([])
      .when(start({ stable: null }))
      .thenThrows(IllegalStateError, /has no release/)
  })

  it('records the first step once its release is in place, and only once', () => {
    const mark = {
      type: 'MarkStepStarted',
      data: {
        model: 'movies',
        rolloutId: id,
        step: 0,
        release: { stable: 1, canary: { version: 2, percent: 10 } },
        releasePosition: 10,
        now: at(0),
      },
    } as const
    rollouts
      .given([started()])
      .when(mark)
      .then([stepStarted(0, 0)])
    rollouts
      .given([started(), stepStarted(0, 0)])
      .when(mark)
      .then([])
  })

  it('does not judge before the window has been held', () => {
    rollouts
      .given([started(), stepStarted(0, 0)])
      .when(judge(0, 0, 9))
      .then([])
  })

  it('does not judge with too little traffic: the step waits', () => {
    const thin = judge(0, 0, 10)
    thin.data.signals.candidate.requests = 40
    rollouts
      .given([started(), stepStarted(0, 0)])
      .when(thin)
      .then([])
  })

  it('fails a step still short of traffic at its deadline, naming what was missing', () => {
    const withDeadline: RolloutEvent = {
      ...started(),
      data: { ...started().data, criteria: { ...criteria, stepDeadlineSeconds: 1800 } },
    } as RolloutEvent
    const thin = (minute: number) => {
      const command = judge(0, 0, minute, 0)
      command.data.signals.candidate.requests = 40
      return command
    }
    rollouts
      .given([withDeadline, stepStarted(0, 0)])
      .when(thin(29))
      .then([])
    const [event] = rolloutDecider.decide(
      thin(30),
      [withDeadline, stepStarted(0, 0)].reduce(evolveRollouts, initialRolloutsState),
    )
    expect(event).toMatchObject({
      type: 'RolloutStepJudged',
      data: {
        verdict: 'fail',
        next: 'rollback',
        reasons: [
          'insufficient traffic: 40 of 100 requests so far after 1800 s (step deadline 1800 s)',
        ],
      },
    })
    // A rollout recorded before deadlines existed keeps waiting.
    const legacy = structuredClone(started())
    if (legacy.type === 'RolloutStarted') delete legacy.data.criteria.stepDeadlineSeconds
    rollouts
      .given([legacy, stepStarted(0, 0)])
      .when(thin(3000))
      .then([])
  })

  it('passes a healthy step to the next, with the evidence', () => {
    const events = rolloutDecider.decide(
      judge(0, 0, 10),
      [started(), stepStarted(0, 0)].reduce(evolveRollouts, initialRolloutsState),
    )
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      type: 'RolloutStepJudged',
      data: { step: 0, percent: 10, verdict: 'pass', next: 'step', reasons: [] },
    })
    expect(
      events[0]!.type === 'RolloutStepJudged' && events[0]!.data.signals.candidate.requests,
    ).toBe(200)
  })

  it('fails a step with errors and rolls back at once', () => {
    const events = rolloutDecider.decide(
      judge(1, 30, 30),
      [started(), stepStarted(0, 0), judged(0, 'pass', 'step', 10), stepStarted(1, 20)].reduce(
        evolveRollouts,
        initialRolloutsState,
      ),
    )
    expect(events[0]).toMatchObject({
      type: 'RolloutStepJudged',
      data: { step: 1, verdict: 'fail', next: 'rollback' },
    })
    const state = [
      started(),
      stepStarted(0, 0),
      judged(0, 'pass', 'step', 10),
      stepStarted(1, 20),
      events[0]!,
    ].reduce(evolveRollouts, initialRolloutsState)
    expect(nextRolloutAction(state.rollouts[id]!, at(30))).toEqual({
      kind: 'revert',
      outcome: 'rolled_back',
      restore: 1,
      leaveRelease: false,
    })
  })

  it('promotes after the last step passes, and a later rollback restores the old stable', () => {
    const history = [
      started(),
      stepStarted(0, 0),
      judged(0, 'pass', 'step', 10),
      stepStarted(1, 10),
      judged(1, 'pass', 'step', 20),
      stepStarted(2, 20),
    ]
    const [last] = rolloutDecider.decide(
      judge(2, 0, 30),
      history.reduce(evolveRollouts, initialRolloutsState),
    )
    expect(last).toMatchObject({ data: { step: 2, verdict: 'pass', next: 'promote' } })
    const promoted: RolloutEvent = {
      type: 'RolloutPromoted',
      data: {
        rolloutId: id,
        model: 'movies',
        candidate: 2,
        release: { stable: 2 },
        releasePosition: 20,
        previousStable: 1,
        promotedAt: at(30).toISOString(),
      },
    }
    rollouts
      .given([...history, last!])
      .when({
        type: 'MarkPromoted',
        data: {
          model: 'movies',
          rolloutId: id,
          release: { stable: 2 },
          releasePosition: 20,
          now: at(30),
        },
      })
      .then([promoted])
    rollouts
      .given([...history, last!, promoted])
      .when({ type: 'RollbackRollout', data: { ...op(40), currentStable: 2 } })
      .then([
        {
          type: 'RolloutRollbackRequested',
          data: {
            rolloutId: id,
            model: 'movies',
            by: 'root',
            reason: 'looked at the dashboards',
            at: at(40).toISOString(),
            from: 'promoted',
            restore: 1,
          },
        },
      ])
    rollouts
      .given([...history, last!, promoted])
      .when({ type: 'RollbackRollout', data: { ...op(40), currentStable: 3 } })
      .thenThrows(IllegalStateError, /no longer serves version 2/)
    // Once promoted, another rollout of the model may start.
    rollouts
      .given([...history, last!, promoted])
      .when(start({ candidate: 3, stable: 2, now: at(50) }))
      .then([
        {
          ...started(),
          data: {
            ...started().data,
            rolloutId: 'movies.2',
            candidate: 3,
            stable: 2,
            startedAt: at(50).toISOString(),
          },
        } as RolloutEvent,
      ])
  })

  it('waits for an approval after a passing step when configured to', () => {
    const history = [started(true), stepStarted(0, 0)]
    const [event] = rolloutDecider.decide(
      judge(0, 0, 10),
      history.reduce(evolveRollouts, initialRolloutsState),
    )
    expect(event).toMatchObject({ data: { verdict: 'pass', next: 'approval' } })
    const waiting = [...history, event!]
    expect(
      nextRolloutAction(waiting.reduce(evolveRollouts, initialRolloutsState).rollouts[id]!, at(60)),
    ).toEqual({
      kind: 'none',
    })
    rollouts
      .given(waiting)
      .when({ type: 'ApproveRollout', data: op(12) })
      .then([
        {
          type: 'RolloutApproved',
          data: {
            rolloutId: id,
            model: 'movies',
            by: 'root',
            reason: 'looked at the dashboards',
            at: at(12).toISOString(),
            next: 'step',
          },
        },
      ])
    rollouts
      .given([started()])
      .when({ type: 'ApproveRollout', data: op(1) })
      .thenThrows(IllegalStateError, /running/)
  })

  it('pauses and resumes; the window starts again at the resume', () => {
    const paused: RolloutEvent = {
      type: 'RolloutPaused',
      data: {
        rolloutId: id,
        model: 'movies',
        by: 'root',
        reason: 'looked at the dashboards',
        at: at(5).toISOString(),
      },
    }
    rollouts
      .given([started(), stepStarted(0, 0)])
      .when({ type: 'PauseRollout', data: op(5) })
      .then([paused])
    rollouts
      .given([started(), stepStarted(0, 0), paused])
      .when(judge(0, 0, 20))
      .then([])
    const resumed: RolloutEvent = {
      type: 'RolloutResumed',
      data: { ...paused.data, at: at(8).toISOString() },
    }
    rollouts
      .given([started(), stepStarted(0, 0), paused])
      .when({ type: 'ResumeRollout', data: op(8) })
      .then([resumed])
    const state = [started(), stepStarted(0, 0), paused, resumed].reduce(
      evolveRollouts,
      initialRolloutsState,
    )
    expect(nextRolloutAction(state.rollouts[id]!, at(17))).toEqual({ kind: 'none' })
    expect(nextRolloutAction(state.rollouts[id]!, at(18))).toEqual({
      kind: 'judge',
      step: 0,
      from: at(8),
    })
  })

  it('aborts without a verdict; ended rollouts refuse operator commands', () => {
    const aborted: RolloutEvent = {
      type: 'RolloutAborted',
      data: {
        rolloutId: id,
        model: 'movies',
        by: 'root',
        reason: 'wrong candidate',
        at: at(3).toISOString(),
      },
    }
    rollouts
      .given([started(), stepStarted(0, 0)])
      .when({ type: 'AbortRollout', data: op(3, 'root', 'wrong candidate') })
      .then([aborted])
    const reverted: RolloutEvent = {
      type: 'RolloutReverted',
      data: {
        rolloutId: id,
        model: 'movies',
        candidate: 2,
        outcome: 'aborted',
        release: { stable: 1 },
        releasePosition: 12,
        revertedAt: at(3).toISOString(),
      },
    }
    rollouts
      .given([started(), stepStarted(0, 0), aborted])
      .when({
        type: 'MarkReverted',
        data: {
          model: 'movies',
          rolloutId: id,
          release: { stable: 1 },
          releasePosition: 12,
          now: at(3),
        },
      })
      .then([reverted])
    const ended = [started(), stepStarted(0, 0), aborted, reverted]
    rollouts
      .given(ended)
      .when({ type: 'PauseRollout', data: op(4) })
      .thenThrows(IllegalStateError, /is aborted/)
    rollouts
      .given(ended)
      .when({ type: 'AbortRollout', data: op(4) })
      .thenThrows(IllegalStateError, /is aborted/)
    rollouts
      .given(ended)
      .when(start({ candidate: 3, now: at(5) }))
      .then([
        {
          ...started(),
          data: {
            ...started().data,
            rolloutId: 'movies.2',
            candidate: 3,
            startedAt: at(5).toISOString(),
          },
        } as RolloutEvent,
      ])
  })

  it('stops and leaves the release alone when it was changed by hand', () => {
    const events = rolloutDecider.decide(
      {
        type: 'StopRollout',
        data: op(4, 'system:rollouts', 'the release changed outside the rollout'),
      },
      [started(), stepStarted(0, 0)].reduce(evolveRollouts, initialRolloutsState),
    )
    expect(events.map((e) => e.type)).toEqual(['RolloutAborted', 'RolloutReverted'])
    const state = [started(), stepStarted(0, 0), ...events].reduce(
      evolveRollouts,
      initialRolloutsState,
    )
    expect(state.active).toBeNull()
    expect(state.rollouts[id]!.status).toBe('aborted')
  })

  it('knows the model of a rollout id and refuses unknown rollouts', () => {
    expect(modelOfRollout('movies-v2.12')).toBe('movies-v2')
    expect(modelOfRollout('movies')).toBeNull()
    rollouts
      .given([])
      .when({ type: 'PauseRollout', data: op(1) })
      .thenThrows(NotFoundError)
  })
})
