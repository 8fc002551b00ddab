import { randomUUID } from 'node:crypto'
import { clickhouseDate, clickhouseDateTime, insertInChunks } from '@argmax/analytics'
import type { Release } from '@argmax/contracts'
import { loadAggregate } from '@argmax/events'
import { expect } from 'vitest'
import { releaseDecider } from '../../src/domain/index.ts'
import { releaseSubject } from '../../src/streams.ts'
import { fakeRun, publishRun, registeredVersion, type Harness } from './harness.ts'
import { eventually } from '@argmax/testkit'

/** What rollout tests read from the API. */
export interface RolloutAnswer {
  position: number
  rollout: { rolloutId: string; status: string; step: number; percent: number; candidate: number }
  detail?: string
}

export interface Timeline {
  rollout: RolloutAnswer['rollout']
  timeline: Array<{ type: string; actor: string; data: Record<string, unknown> }>
}

export const SECOND = 1000

/** Versions 1…n of `model` for `owner` through training's events, the first released. */
export async function modelWithVersions(h: Harness, model: string, owner: string, count: number) {
  for (let index = 0; index < count; index++) {
    await publishRun(h, await fakeRun(h, { model, ownerId: owner }))
    await registeredVersion(h, model, index + 1)
  }
  const set = await h.call('PUT', `/v1/models/${model}/release`, h.tokens.admin, {
    stable: 1,
    reason: 'first release',
  })
  expect(set.status, JSON.stringify(set.body)).toBe(200)
}

/** A prediction-log row as written, for labelling it afterwards. */
export interface LoggedPrediction {
  prediction_id: string
  time: string
  date: string
  model: string
  version: number
  prediction: number | null
  predicted_class: string | null
}

/**
 * Prediction-log rows as inference's sink writes them, one a second from `start` + 1 s (500 at
 * most, then again from the start). A regression answer is `prediction(i)` (default 3.5); a
 * classifier's is `classify(i)`: its label and the probabilities logged in `outputs`.
 */
export async function traffic(
  h: Harness,
  row: { model: string; version: number; variant: 'stable' | 'canary' | 'pinned'; start: Date },
  spec: {
    requests: number
    errors: number
    latencyMs: number
    prediction?: (i: number) => number
    classify?: (i: number) => { label: string; probabilities: number[] }
  },
): Promise<LoggedPrediction[]> {
  const rows = Array.from({ length: spec.requests }, (_, i) => {
    const time = new Date(row.start.getTime() + SECOND + (i % 500) * SECOND)
    const failed = i < spec.errors
    const id = randomUUID()
    const classified = !failed && spec.classify ? spec.classify(i) : null
    return {
      prediction_id: failed ? `error:${id}` : id,
      request_id: id,
      time: clickhouseDateTime(time),
      time_ms: 0,
      date: clickhouseDate(time),
      model: row.model,
      version: row.version,
      variant: row.variant,
      release_sequence: null,
      caller: 'alice',
      protocol: 'rest',
      status: failed ? 'error' : 'success',
      error: failed ? 'model server failed' : '',
      latency_ms: spec.latencyMs + (i % 7),
      inputs: '{}',
      outputs: classified
        ? JSON.stringify({ label: classified.label, probabilities: classified.probabilities })
        : '{}',
      prediction: failed || classified ? null : (spec.prediction?.(i) ?? 3.5),
      predicted_class: classified ? classified.label : null,
      batch_id: '',
      row_index: 0,
    }
  })
  await insertInChunks(h.analytics!, 'predictions', rows)
  return rows.filter((r) => r.status === 'success')
}

/**
 * Labels as feedback's sink writes them (`feedback_labels`, the prediction's day partition), 30 s
 * after each prediction; `revision` orders corrections (the highest is the current label).
 */
export async function labels(
  h: Harness,
  predictions: readonly LoggedPrediction[],
  value: (p: LoggedPrediction, i: number) => { number?: number; class?: string },
  revision = 1,
) {
  const rows = predictions.map((p, i) => {
    const received = new Date(Date.parse(`${p.time.replace(' ', 'T')}Z`) + 30 * SECOND)
    const v = value(p, i)
    return {
      label_id: randomUUID(),
      prediction_id: p.prediction_id,
      model: p.model,
      version: p.version,
      prediction_time: p.time,
      date: p.date,
      received_at: clickhouseDateTime(received),
      received_ms: 0,
      revision,
      value_number: v.number ?? null,
      value_class: v.class ?? null,
      source: 'api',
      actor: 'alice',
      request_id: randomUUID(),
    }
  })
  await insertInChunks(h.analytics!, 'feedback_labels', rows)
}

/** The release as its events say (the read model may not have applied the last change yet). */
export async function release(h: Harness, model: string): Promise<Release | null> {
  const { state } = await loadAggregate(h.store, releaseDecider, releaseSubject(h.names, model))
  return state.current
}

export async function rollout(h: Harness, id: string, token = h.tokens.admin) {
  return h.call<Timeline & { detail?: string }>('GET', `/v1/rollouts/${id}`, token)
}

/** A version's annotations once the read model shows at least one. */
export async function annotationsOf(h: Harness, model: string, version: number) {
  return eventually(
    async () => {
      const answer = await h.call<{ annotations: Array<{ kind: string; text: string }> }>(
        'GET',
        `/v1/models/${model}/versions/${version}`,
        h.tokens.alice,
      )
      return answer.body.annotations?.length ? answer.body.annotations : undefined
    },
    30_000,
    `annotations of ${model} v${version}`,
  )
}

/** Runs the rollout worker until `check` holds (the projection names new rollouts shortly). */
export async function tickUntil<T>(h: Harness, what: string, check: () => Promise<T | undefined>) {
  return eventually(
    async () => {
      const report = await h.service.workers.rollouts.runOnce()
      expect(report.failures).toEqual([])
      return check()
    },
    30_000,
    what,
  )
}
