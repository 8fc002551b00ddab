import { IllegalStateError, NotFoundError } from '@argmax/errors'
import { deciderSpec } from '@argmax/events'
import { describe, expect, it } from 'vitest'
import {
  decideGate,
  evaluateCandidate,
  evolvePipeline,
  holdoutLeak,
  initialPipelineState,
  nextStep,
  pipelineDecider,
  type PipelineConfig,
  type PipelineEvent,
  type PipelineRecord,
  type PipelineTrigger,
  type ServingSide,
} from '../../src/domain/index.ts'

const pipelines = deciderSpec(pipelineDecider)
const model = 'movies'
const now = new Date('2026-03-02T10:00:00.000Z')
const at = now.toISOString()

const config: PipelineConfig = {
  enabled: true,
  triggers: { retrainRequested: true, labelThreshold: 500, schedule: null },
  data: { source: 'pinned_feedback', datasetVersionId: 'base-v1', minFeedbackRows: 100 },
  training: { target: 'IMDB Rating', trainer: 'xgboost', params: {}, seed: 7 },
  evaluation: {
    metric: 'mae',
    direction: 'lower_is_better',
    margin: 0.02,
    guards: [{ metric: 'r2', direction: 'higher_is_better', tolerance: 0 }],
  },
  rescore: null,
  requireApproval: false,
  rollout: {},
}

const created: PipelineEvent = {
  type: 'PipelineCreated',
  data: { model, ownerId: 'alice', config, createdBy: 'alice', createdAt: at },
}

const trigger = (over: Partial<PipelineTrigger> = {}): PipelineTrigger => ({
  kind: 'retrain_requested',
  by: 'system:feedback',
  reason: 'mae above 0.8',
  evidence: { metric: 'mae', value: 0.9 },
  sourceEventId: 'ev-1',
  at,
  ...over,
})

const started = (cfg = config): PipelineEvent => ({
  type: 'PipelineRunStarted',
  data: { model, pipelineRunId: 'movies.1', n: 1, trigger: trigger(), config: cfg, startedAt: at },
})
const prepared: PipelineEvent = {
  type: 'PipelineDataPrepared',
  data: {
    model,
    pipelineRunId: 'movies.1',
    source: 'base',
    datasetVersionId: 'base-v1',
    datasetVersionIds: ['base-v1'],
    preparedAt: at,
  },
}
const trainingStarted: PipelineEvent = {
  type: 'PipelineTrainingStarted',
  data: { model, pipelineRunId: 'movies.1', runId: 'run-1', startedAt: at },
}
const trainingSucceeded = (metrics = { mae: 0.6, r2: 0.5 }): PipelineEvent => ({
  type: 'PipelineTrainingFinished',
  data: {
    model,
    pipelineRunId: 'movies.1',
    runId: 'run-1',
    outcome: 'succeeded',
    metrics,
    datasetVersionId: 'base-v1',
    seed: 7,
    finishedAt: at,
  },
})
const object = (key: string) => ({ uri: `s3://models/${key}`, sha256: 'a'.repeat(64), size: 10 })
const serving: ServingSide = {
  version: 1,
  artifact: object('runs/run-0/attempts/1/model.onnx'),
  metrics: { mae: 0.66, r2: 0.45 },
  recordedMetrics: { mae: 0.64, r2: 0.47 },
}
/** Both sides as the evaluate step scored them on the candidate's holdout. */
const scored = (candidate: Record<string, number> = { mae: 0.6, r2: 0.5 }) => ({
  holdout: { object: object('runs/run-1/attempts/1/holdout.jsonl'), rows: 90 },
  candidate,
  serving,
})
const fold = (events: PipelineEvent[]) =>
  events.reduce(evolvePipeline, initialPipelineState) as PipelineRecord

describe('pipeline creation and triggers', () => {
  it('creates one pipeline per model; the same request again is no change, another is 409', () => {
    pipelines
      .given([])
      .when({ type: 'CreatePipeline', data: { model, ownerId: 'alice', config, by: 'alice', now } })
      .then([created])
    const keyed: PipelineEvent = {
      ...created,
      data: { ...created.data, requestHash: 'h1' },
    } as PipelineEvent
    pipelines
      .given([keyed])
      .when({
        type: 'CreatePipeline',
        data: { model, ownerId: 'alice', config, by: 'alice', requestHash: 'h1', now },
      })
      .then([])
    pipelines
      .given([created])
      .when({ type: 'CreatePipeline', data: { model, ownerId: 'alice', config, by: 'alice', now } })
      .thenThrows(IllegalStateError, 'has a pipeline already')
  })

  it('a trigger without a pipeline is 404', () => {
    pipelines
      .given([])
      .when({ type: 'Trigger', data: { trigger: trigger(), now } })
      .thenThrows(NotFoundError)
  })

  it('a trigger starts run <model>.1 with the config as it is', () => {
    pipelines
      .given([created])
      .when({ type: 'Trigger', data: { trigger: trigger(), now } })
      .then([started()])
  })

  it('a trigger while a run is active is coalesced into it, never a second run', () => {
    const second = trigger({ sourceEventId: 'ev-2', kind: 'manual', by: 'admin' })
    pipelines
      .given([created, started()])
      .when({ type: 'Trigger', data: { trigger: second, now } })
      .then([
        {
          type: 'PipelineTriggerCoalesced',
          data: { model, pipelineRunId: 'movies.1', trigger: second, coalescedAt: at },
        },
      ])
    const state = fold([
      created,
      started(),
      ...pipelineDecider.decide(
        { type: 'Trigger', data: { trigger: second, now } },
        fold([created, started()]),
      ),
    ])
    expect(state.current?.coalesced).toBe(1)
    expect(state.runs).toBe(1)
  })

  it('the same source event twice (a redelivery) decides nothing', () => {
    pipelines
      .given([created, started()])
      .when({ type: 'Trigger', data: { trigger: trigger(), now } })
      .then([])
  })

  it('after the run ended, the next trigger starts run .2', () => {
    const failed: PipelineEvent = {
      type: 'PipelineRunFailed',
      data: { model, pipelineRunId: 'movies.1', reason: 'training_failed', message: 'x', at },
    }
    const events = pipelineDecider.decide(
      { type: 'Trigger', data: { trigger: trigger({ sourceEventId: 'ev-9' }), now } },
      fold([created, started(), failed]),
    )
    expect(events).toMatchObject([
      { type: 'PipelineRunStarted', data: { pipelineRunId: 'movies.2', n: 2 } },
    ])
  })

  it('ignores (and records) triggers the pipeline does not act on; a manual one always runs', () => {
    const disabled: PipelineEvent = {
      type: 'PipelineUpdated',
      data: { model, config: { ...config, enabled: false }, updatedBy: 'alice', updatedAt: at },
    }
    expect(
      pipelineDecider.decide(
        { type: 'Trigger', data: { trigger: trigger(), now } },
        fold([created, disabled]),
      ),
    ).toMatchObject([{ type: 'PipelineTriggerIgnored', data: { why: 'the pipeline is disabled' } }])
    const few = trigger({ kind: 'labels', evidence: { labels: 499 }, sourceEventId: 'ev-3' })
    expect(
      pipelineDecider.decide({ type: 'Trigger', data: { trigger: few, now } }, fold([created])),
    ).toMatchObject([
      {
        type: 'PipelineTriggerIgnored',
        data: { why: '499 new labels, under the threshold of 500' },
      },
    ])
    const enough = trigger({ kind: 'labels', evidence: { labels: 500 }, sourceEventId: 'ev-4' })
    expect(
      pipelineDecider.decide(
        { type: 'Trigger', data: { trigger: enough, now } },
        fold([created]),
      )[0]?.type,
    ).toBe('PipelineRunStarted')
    const manual = trigger({ kind: 'manual', by: 'admin', sourceEventId: undefined })
    expect(
      pipelineDecider.decide(
        { type: 'Trigger', data: { trigger: manual, now } },
        fold([created, disabled]),
      )[0]?.type,
    ).toBe('PipelineRunStarted')
  })

  it('a schedule slot fires once whoever ticks', () => {
    const scheduled = { ...config, triggers: { ...config.triggers, schedule: '0 3 * * *' } }
    const base: PipelineEvent = {
      ...created,
      data: { ...created.data, config: scheduled },
    } as PipelineEvent
    const slot = trigger({
      kind: 'schedule',
      slot: '2026-03-02T03:00:00.000Z',
      sourceEventId: undefined,
    })
    const first = pipelineDecider.decide(
      { type: 'Trigger', data: { trigger: slot, now } },
      fold([base]),
    )
    expect(first[0]?.type).toBe('PipelineRunStarted')
    pipelines
      .given([base, ...first])
      .when({ type: 'Trigger', data: { trigger: slot, now } })
      .then([])
  })
})

describe('the steps of a run', () => {
  it('walks data → training → evaluation → gate → registration → hand-over', () => {
    let history: PipelineEvent[] = [created, started()]
    const step = () => nextStep(fold(history).current!)
    const apply = (command: Parameters<typeof pipelineDecider.decide>[0]) => {
      const events = pipelineDecider.decide(command, fold(history))
      history = [...history, ...events]
      return events
    }
    expect(step()).toBe('preparing_data')
    // No pin yet: the base version.
    expect(apply({ type: 'PrepareData', data: { pipelineRunId: 'movies.1', now } })).toEqual([
      prepared,
    ])
    expect(step()).toBe('submitting_training')
    apply({
      type: 'RecordTrainingStarted',
      data: { pipelineRunId: 'movies.1', runId: 'run-1', now },
    })
    expect(step()).toBe('training')
    // Another run's outcome changes nothing.
    expect(
      apply({
        type: 'RecordTrainingFinished',
        data: {
          runId: 'other',
          outcome: 'succeeded',
          metrics: {},
          datasetVersionId: 'x',
          seed: 1,
          now,
        },
      }),
    ).toEqual([])
    apply({
      type: 'RecordTrainingFinished',
      data: {
        runId: 'run-1',
        outcome: 'succeeded',
        metrics: { mae: 0.6, r2: 0.5 },
        datasetVersionId: 'base-v1',
        seed: 7,
        now,
      },
    })
    expect(step()).toBe('evaluating')
    const [evaluated] = apply({
      type: 'Evaluate',
      data: { pipelineRunId: 'movies.1', scored: scored(), now },
    })
    expect(evaluated).toMatchObject({
      type: 'PipelineEvaluated',
      data: {
        holdout: { rows: 90 },
        candidate: { runId: 'run-1', metrics: { mae: 0.6 }, trainingMetrics: { mae: 0.6 } },
        serving: { version: 1, metrics: { mae: 0.66 }, recordedMetrics: { mae: 0.64 } },
        checks: [
          {
            metric: 'mae',
            role: 'gate',
            candidate: 0.6,
            serving: 0.66,
            improvement: 0.090909,
            passed: true,
          },
          { metric: 'r2', role: 'guard', candidate: 0.5, serving: 0.45, passed: true },
        ],
      },
    })
    // Repeating a finished step decides nothing (a restarted worker, a redelivery).
    expect(
      apply({ type: 'Evaluate', data: { pipelineRunId: 'movies.1', scored: scored(), now } }),
    ).toEqual([])
    expect(apply({ type: 'Gate', data: { pipelineRunId: 'movies.1', now } })[0]?.type).toBe(
      'PipelineGatePassed',
    )
    expect(step()).toBe('registering')
    apply({
      type: 'RecordRegistered',
      data: { pipelineRunId: 'movies.1', version: 2, alias: 'challenger', now },
    })
    expect(step()).toBe('warming')
    // The gateway reports the challenger loaded 12.3 s after its registration.
    const loadedAt = new Date(now.getTime() + 12_345)
    expect(
      apply({ type: 'RecordWarmed', data: { pipelineRunId: 'movies.1', now: loadedAt } }),
    ).toEqual([
      {
        type: 'PipelineWarmed',
        data: {
          model,
          pipelineRunId: 'movies.1',
          version: 2,
          waitedSeconds: 12.3,
          at: loadedAt.toISOString(),
        },
      },
    ])
    expect(
      apply({ type: 'RecordWarmed', data: { pipelineRunId: 'movies.1', now: loadedAt } }),
    ).toEqual([])
    expect(step()).toBe('handing_over')
    expect(
      apply({
        type: 'RecordHandedOver',
        data: { pipelineRunId: 'movies.1', rolloutId: 'movies.1', now },
      }),
    ).toEqual([
      {
        type: 'PipelineHandedOver',
        data: { model, pipelineRunId: 'movies.1', version: 2, rolloutId: 'movies.1', at },
      },
    ])
    expect(fold(history).current).toMatchObject({
      status: 'completed',
      version: 2,
      rolloutId: 'movies.1',
    })
    expect(
      apply({ type: 'RecordHandedOver', data: { pipelineRunId: 'movies.1', rolloutId: 'x', now } }),
    ).toEqual([])
  })

  it('uses the pinned feedback dataset when there is one', () => {
    const pin: PipelineEvent = {
      type: 'PipelineDataSourcePinned',
      data: {
        model,
        feedbackDatasetId: 'fd-1',
        datasetId: 'd-fb',
        datasetVersionId: 'fb-v3',
        pinnedBy: 'alice',
        pinnedAt: at,
        sourceEventId: 'pin-1',
      },
    }
    expect(
      pipelineDecider.decide(
        { type: 'PrepareData', data: { pipelineRunId: 'movies.1', now } },
        fold([created, pin, started()]),
      ),
    ).toMatchObject([
      { data: { source: 'pinned_feedback', feedbackDatasetId: 'fd-1', datasetVersionId: 'fb-v3' } },
    ])
    // The same pin event again is not recorded twice.
    pipelines
      .given([created, pin])
      .when({
        type: 'RecordPin',
        data: {
          feedbackDatasetId: 'fd-1',
          datasetId: 'd-fb',
          datasetVersionId: 'fb-v3',
          pinnedBy: 'alice',
          pinnedAt: at,
          sourceEventId: 'pin-1',
        },
      })
      .then([])
  })

  it('a failed training leads to PipelineRunFailed', () => {
    const failedTraining: PipelineEvent = {
      type: 'PipelineTrainingFinished',
      data: {
        ...(trainingSucceeded().data as object),
        outcome: 'failed',
        metrics: {},
        message: 'exit 2',
      } as never,
    }
    const state = fold([created, started(), prepared, trainingStarted, failedTraining])
    expect(nextStep(state.current!)).toBe('failing')
  })

  it('a candidate worse on the gate metric stops the run with the numbers', () => {
    const history = [
      created,
      started(),
      prepared,
      trainingStarted,
      trainingSucceeded({ mae: 0.5, r2: 0.5 }),
    ]
    // Its own test split said 0.5; on the holdout beside the serving version it scores 0.7.
    const evaluated = pipelineDecider.decide(
      {
        type: 'Evaluate',
        data: { pipelineRunId: 'movies.1', scored: scored({ mae: 0.7, r2: 0.5 }), now },
      },
      fold(history),
    )
    const gate = pipelineDecider.decide(
      { type: 'Gate', data: { pipelineRunId: 'movies.1', now } },
      fold([...history, ...evaluated]),
    )
    expect(gate).toMatchObject([
      {
        type: 'PipelineGateFailed',
        data: {
          checks: [
            { metric: 'mae', candidate: 0.7, serving: 0.66, improvement: -0.060606, passed: false },
            { metric: 'r2', candidate: 0.5, serving: 0.45, required: 0, passed: true },
          ],
          reasons: ['mae 0.7 vs 0.66: improvement -6.06 % below the margin 2.00 %'],
        },
      },
    ])
    const ended = fold([...history, ...evaluated, ...gate])
    expect(ended.current?.status).toBe('gate_failed')
    expect(nextStep(ended.current!)).toBe('ended')
    // Nothing after a gate failure: no registration, no hand-over.
    pipelines
      .given([...history, ...evaluated, ...gate])
      .when({
        type: 'RecordRegistered',
        data: { pipelineRunId: 'movies.1', version: 2, alias: 'challenger', now },
      })
      .then([])
  })

  it('requireApproval waits for an admin; approve outside that step is 409', () => {
    const cfg = { ...config, requireApproval: true }
    const history: PipelineEvent[] = [
      created,
      started(cfg),
      prepared,
      trainingStarted,
      trainingSucceeded(),
      ...pipelineDecider.decide(
        { type: 'Evaluate', data: { pipelineRunId: 'movies.1', scored: scored(), now } },
        fold([created, started(cfg), prepared, trainingStarted, trainingSucceeded()]),
      ),
    ]
    pipelines
      .given(history)
      .when({ type: 'Approve', data: { by: 'root', reason: 'ok', now } })
      .thenThrows(IllegalStateError, 'not awaiting approval (step: gating)')
    const gated = [
      ...history,
      ...pipelineDecider.decide(
        { type: 'Gate', data: { pipelineRunId: 'movies.1', now } },
        fold(history),
      ),
      {
        type: 'PipelineRegistered',
        data: { model, pipelineRunId: 'movies.1', version: 2, alias: 'challenger', at },
      } as PipelineEvent,
      {
        type: 'PipelineWarmed',
        data: { model, pipelineRunId: 'movies.1', version: 2, waitedSeconds: 0, skipped: 'x', at },
      } as PipelineEvent,
    ]
    expect(nextStep(fold(gated).current!)).toBe('awaiting_approval')
    pipelines
      .given(gated)
      .when({ type: 'RecordHandedOver', data: { pipelineRunId: 'movies.1', rolloutId: 'r', now } })
      .then([])
    pipelines
      .given(gated)
      .when({ type: 'Approve', data: { by: 'root', reason: 'ok', now } })
      .then([
        {
          type: 'PipelineApproved',
          data: { model, pipelineRunId: 'movies.1', by: 'root', reason: 'ok', at },
        },
      ])
  })

  it('re-scores a dataset version with the candidate, where configured, before approval', () => {
    const cfg = { ...config, rescore: { datasetVersionId: 'score-v1' }, requireApproval: true }
    const upToGate = [created, started(cfg), prepared, trainingStarted, trainingSucceeded()]
    let history: PipelineEvent[] = [
      ...upToGate,
      ...pipelineDecider.decide(
        { type: 'Evaluate', data: { pipelineRunId: 'movies.1', scored: scored(), now } },
        fold(upToGate),
      ),
    ]
    const apply = (command: Parameters<typeof pipelineDecider.decide>[0]) => {
      const events = pipelineDecider.decide(command, fold(history))
      history = [...history, ...events]
      return events
    }
    apply({ type: 'Gate', data: { pipelineRunId: 'movies.1', now } })
    apply({
      type: 'RecordRegistered',
      data: { pipelineRunId: 'movies.1', version: 2, alias: 'challenger', now },
    })
    apply({ type: 'RecordWarmed', data: { pipelineRunId: 'movies.1', now } })
    const step = () => nextStep(fold(history).current!)
    expect(step()).toBe('requesting_rescore')
    // Not in its step: nothing.
    expect(
      apply({
        type: 'RecordRescored',
        data: { pipelineRunId: 'movies.1', rows: 1, rowsFailed: 0, result: object('r'), now },
      }),
    ).toEqual([])
    expect(
      apply({
        type: 'RecordRescoreRequested',
        data: { pipelineRunId: 'movies.1', batchId: 'b-1', now },
      }),
    ).toEqual([
      {
        type: 'PipelineRescoreRequested',
        data: {
          model,
          pipelineRunId: 'movies.1',
          version: 2,
          datasetVersionId: 'score-v1',
          batchId: 'b-1',
          at,
        },
      },
    ])
    expect(step()).toBe('rescoring')
    expect(
      apply({
        type: 'RecordRescored',
        data: { pipelineRunId: 'movies.1', rows: 900, rowsFailed: 2, result: object('r'), now },
      }),
    ).toEqual([
      {
        type: 'PipelineRescored',
        data: {
          model,
          pipelineRunId: 'movies.1',
          batchId: 'b-1',
          rows: 900,
          rowsFailed: 2,
          result: object('r'),
          at,
        },
      },
    ])
    expect(step()).toBe('awaiting_approval')
    expect(fold(history).current!.rescore).toEqual({
      batchId: 'b-1',
      result: { rows: 900, rowsFailed: 2, object: object('r') },
    })
  })

  it('abort ends the active run; with none it is 409; steps after it decide nothing', () => {
    pipelines
      .given([created])
      .when({ type: 'Abort', data: { by: 'root', reason: 'x', now } })
      .thenThrows(IllegalStateError, 'no run in progress')
    const aborted: PipelineEvent = {
      type: 'PipelineRunAborted',
      data: { model, pipelineRunId: 'movies.1', by: 'root', reason: 'x', at },
    }
    pipelines
      .given([created, started()])
      .when({ type: 'Abort', data: { by: 'root', reason: 'x', now } })
      .then([aborted])
    pipelines
      .given([created, started(), aborted])
      .when({ type: 'PrepareData', data: { pipelineRunId: 'movies.1', now } })
      .then([])
  })
})

describe('the holdout both are scored on', () => {
  const v1 = { version: 1, trainedOn: { datasetVersionId: 'base', seed: 3 } }

  it('is fair when the serving version read the shared dataset version first with the same seed', () => {
    expect(holdoutLeak(v1, { datasetVersionIds: ['base', 'feedback'], seed: 3 })).toBeNull()
    // No dataset version in common, or an upload (what it trained on is unknown).
    expect(holdoutLeak(v1, { datasetVersionIds: ['other'], seed: 9 })).toBeNull()
    expect(
      holdoutLeak({ version: 1, trainedOn: null }, { datasetVersionIds: ['base'], seed: 9 }),
    ).toBeNull()
  })

  it('is refused when another seed or another position would put its training rows in the holdout', () => {
    expect(holdoutLeak(v1, { datasetVersionIds: ['base', 'feedback'], seed: 4 })).toBe(
      'version 1 was trained on dataset version base (read first, seed 3) and the candidate ' +
        'read it with seed 4, not 3: its holdout can hold rows version 1 trained on, which ' +
        'would flatter it. Train the pipeline with seed 3 and that dataset version first ' +
        '(data.datasetVersionId)',
    )
    expect(holdoutLeak(v1, { datasetVersionIds: ['feedback', 'base'], seed: 3 })).toMatch(
      /read it in position 2, not first/,
    )
  })
})

describe('the gate', () => {
  const evaluation = config.evaluation
  const candidate = { mae: 0.6, r2: 0.5 }

  it('a guard metric worse beyond its tolerance fails; a missing metric fails naming it', () => {
    const checks = evaluateCandidate(evaluation, { mae: 0.6, r2: 0.4 }, serving.metrics)
    expect(decideGate({ checks, serving }).reasons).toEqual([
      'guard r2 0.4 vs 0.45: worse by 11.11 %, more than the tolerance 0.00 %',
    ])
    expect(
      decideGate({ checks: evaluateCandidate(evaluation, { r2: 0.5 }, serving.metrics), serving })
        .reasons,
    ).toEqual(['gate metric mae: the candidate has no value for it on the holdout'])
    expect(
      decideGate({ checks: evaluateCandidate(evaluation, candidate, { mae: 0.66 }), serving })
        .reasons,
    ).toEqual(['guard metric r2: version 1 has no value for it on the holdout'])
  })

  it('higher-is-better metrics and a serving value of 0', () => {
    const acc = {
      ...evaluation,
      metric: 'accuracy',
      direction: 'higher_is_better' as const,
      guards: [],
    }
    expect(evaluateCandidate(acc, { accuracy: 0.9 }, { accuracy: 0.8 })[0]).toMatchObject({
      improvement: 0.125,
      passed: true,
    })
    expect(
      evaluateCandidate({ ...evaluation, guards: [] }, candidate, { mae: 0 })[0],
    ).toMatchObject({ improvement: -0.6, passed: false })
  })

  it('passes when nothing serves yet', () => {
    expect(evaluateCandidate(evaluation, candidate, null)).toEqual([])
    expect(decideGate({ checks: [], serving: null })).toEqual({
      passed: true,
      reasons: ['nothing serves the model yet: there is no version to beat'],
    })
  })
})

describe('fresh feedback data', () => {
  const fresh: PipelineConfig = {
    ...config,
    data: { source: 'fresh_feedback', datasetVersionId: 'base-v1', minFeedbackRows: 50 },
  }
  const history: PipelineEvent[] = [created, started(fresh)]
  const requested: PipelineEvent = {
    type: 'PipelineFeedbackRequested',
    data: {
      model,
      pipelineRunId: 'movies.1',
      feedbackDatasetId: 'fd-1',
      servingVersion: 1,
      requestedAt: at,
    },
  }

  it('asks feedback once, then trains on the base and the feedback version, both named', () => {
    expect(nextStep(fold(history).current!)).toBe('requesting_feedback')
    pipelines
      .given(history)
      .when({
        type: 'RecordFeedbackRequested',
        data: { pipelineRunId: 'movies.1', feedbackDatasetId: 'fd-1', servingVersion: 1, now },
      })
      .then([requested])
    // Asked already (a restarted step): nothing more.
    pipelines
      .given([...history, requested])
      .when({
        type: 'RecordFeedbackRequested',
        data: { pipelineRunId: 'movies.1', feedbackDatasetId: 'fd-1', servingVersion: 1, now },
      })
      .then([])
    expect(nextStep(fold([...history, requested]).current!)).toBe('preparing_data')
    // Still being written: nothing decided.
    pipelines
      .given([...history, requested])
      .when({ type: 'PrepareData', data: { pipelineRunId: 'movies.1', now } })
      .then([])
    pipelines
      .given([...history, requested])
      .when({
        type: 'PrepareData',
        data: {
          pipelineRunId: 'movies.1',
          feedback: { status: 'materialized', datasetVersionId: 'fd-1', rows: 80 },
          now,
        },
      })
      .then([
        {
          type: 'PipelineDataPrepared',
          data: {
            model,
            pipelineRunId: 'movies.1',
            source: 'fresh_feedback',
            feedbackDatasetId: 'fd-1',
            datasetVersionId: 'base-v1',
            datasetVersionIds: ['base-v1', 'fd-1'],
            feedbackRows: 80,
            preparedAt: at,
          },
        },
      ])
  })

  it('too few labelled rows (or none) fail the run with the numbers', () => {
    for (const feedback of [
      { status: 'materialized' as const, datasetVersionId: 'fd-1', rows: 49 },
      { status: 'empty' as const },
    ]) {
      const [failed] = pipelineDecider.decide(
        { type: 'PrepareData', data: { pipelineRunId: 'movies.1', feedback, now } },
        fold([...history, requested]),
      )
      expect(failed).toMatchObject({
        type: 'PipelineRunFailed',
        data: { reason: 'data_unavailable' },
      })
      const rows = feedback.status === 'empty' ? 0 : 49
      expect((failed!.data as { message: string }).message).toBe(
        `too few labelled predictions since version 1's release: ${rows} in feedback dataset fd-1, ` +
          'the minimum is 50 (data.minFeedbackRows); nothing new enough to train on',
      )
    }
    const [failed] = pipelineDecider.decide(
      {
        type: 'PrepareData',
        data: { pipelineRunId: 'movies.1', feedback: { status: 'failed', error: 'boom' }, now },
      },
      fold([...history, requested]),
    )
    expect(failed).toMatchObject({
      type: 'PipelineRunFailed',
      data: { message: 'feedback dataset fd-1 could not be built: boom' },
    })
  })

  it('with nothing serving, the base alone, saying why', () => {
    const [prepared] = pipelineDecider.decide(
      {
        type: 'PrepareData',
        data: { pipelineRunId: 'movies.1', baseOnly: 'nothing serves the model yet', now },
      },
      fold(history),
    )
    expect(prepared).toMatchObject({
      type: 'PipelineDataPrepared',
      data: {
        source: 'base',
        datasetVersionIds: ['base-v1'],
        note: 'nothing serves the model yet',
      },
    })
  })
})
