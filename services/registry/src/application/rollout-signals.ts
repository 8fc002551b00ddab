import {
  classificationMetrics,
  classificationQuality,
  regressionMetrics,
  regressionQuality,
  type AnalyticsClient,
  type QualityScope,
} from '@argmax/analytics'
import type { ModelSignature } from '@argmax/contracts'
import {
  isQualityMetric,
  QUALITY_METRICS,
  type StepSignals,
  type VersionSignals,
} from '../domain/index.ts'

export interface SignalQuery {
  model: string
  versions: number[]
  /** Inclusive. */
  from: Date
  /** Exclusive. */
  to: Date
}

/** Requests, errors and p99 latency of each version over a window (live traffic only). */
export interface TrafficSignals {
  read(query: SignalQuery): Promise<Record<number, Omit<VersionSignals, 'quality'>>>
}

/**
 * The quality metric of each version over the labelled predictions of a window: `labels` counts
 * the predictions that have a label, `value` is the metric over them (null without any).
 */
export interface QualitySignals {
  read(
    query: SignalQuery & { metric: string },
  ): Promise<Record<number, { labels: number; value: number | null } | undefined>>
}

export interface RolloutSignals {
  traffic: TrafficSignals
  quality: QualitySignals | null
  /** Releases the connections (the rollout worker's stop calls it). */
  close(): Promise<void>
}

const EMPTY: Omit<VersionSignals, 'quality'> = { requests: 0, errors: 0, p99LatencyMs: null }

/**
 * Traffic signals from inference's prediction log (`inference_log`: each prediction once,
 * `status = 'error'` for a failed request). Only what the release routed counts (`variant`
 * stable or canary): pinned-version calls and batch predictions are not canary evidence.
 * Values in the SQL are integers and a checked model name (no query parameters on 18.16).
 */
export function clickhouseTrafficSignals(client: AnalyticsClient): TrafficSignals {
  return {
    async read({ model, versions, from, to }) {
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(model)) throw new Error(`bad model name ${model}`)
      const list = versions.map((v) => String(Math.trunc(v))).join(', ')
      const rows = await client.query<{
        version: number | string
        requests: number | string
        errors: number | string
        succeeded: number | string
        p99: number | string | null
      }>(
        `SELECT version, count() AS requests, countIf(status = 'error') AS errors,
           countIf(status != 'error') AS succeeded,
           quantileExactIf(0.99)(latency_ms, status != 'error') AS p99
         FROM ${client.database}.inference_log
         WHERE model = '${model}' AND version IN (${list})
           AND variant IN ('stable', 'canary')
           AND time >= toDateTime(${Math.floor(from.getTime() / 1000)})
           AND time < toDateTime(${Math.floor(to.getTime() / 1000)})
         GROUP BY version`,
      )
      const result: Record<number, Omit<VersionSignals, 'quality'>> = {}
      for (const v of versions) result[v] = { ...EMPTY }
      for (const row of rows) {
        result[Number(row.version)] = {
          requests: Number(row.requests),
          errors: Number(row.errors),
          p99LatencyMs: Number(row.succeeded) > 0 && row.p99 !== null ? Number(row.p99) : null,
        }
      }
      return result
    },
  }
}

/**
 * Live quality from ClickHouse: the window's predictions (what the release routed, `stable` and
 * `canary`, like the traffic signals) joined with their current labels, with the queries and
 * formulas of feedback's quality view (`@argmax/analytics`), so a canary is judged on the numbers
 * the monitors and the quality page show. Classification reads each version's classes from its
 * signature (`signatureOf`): log loss needs the index of the true class in the probabilities.
 */
export function clickhouseQualitySignals(
  client: AnalyticsClient,
  signatureOf: (model: string, version: number) => Promise<ModelSignature>,
): QualitySignals {
  return {
    async read({ model, versions, from, to, metric }) {
      if (!isQualityMetric(metric)) throw new Error(`unknown quality metric ${metric}`)
      const scope: QualityScope = {
        db: client.database,
        model,
        from,
        to,
        toExclusive: true,
        variants: ['stable', 'canary'],
      }
      const result: Record<number, { labels: number; value: number | null }> = {}
      for (const v of versions) result[v] = { labels: 0, value: null }
      if (QUALITY_METRICS[metric].task === 'regression') {
        for (const row of await regressionQuality(client, scope)) {
          const version = Number(row.version)
          if (!(version in result)) continue
          const labels = Number(row.labelled)
          const m = regressionMetrics({
            labelled: labels,
            absSum: Number(row.abs_sum),
            sqSum: Number(row.sq_sum),
            yVar: Number(row.y_var),
          })
          result[version] = { labels, value: metric === 'mae' ? m.mae : m.rmse }
        }
        return result
      }
      for (const version of versions) {
        const signature = await signatureOf(model, version)
        const [row] = await classificationQuality(client, { ...scope, version }, signature)
        if (!row) continue
        const labels = Number(row.labelled)
        const m = classificationMetrics({
          labelled: labels,
          correct: Number(row.correct),
          scored: Number(row.scored),
          logLossSum: Number(row.log_loss_sum),
          classes: [],
        })
        result[version] = { labels, value: metric === 'accuracy' ? m.accuracy : m.logLoss }
      }
      return result
    },
  }
}

/**
 * The evidence of one step: the candidate and the stable version over the step's window. At
 * 100 % the stable version serves nothing, so it is read over the rollout's earlier steps
 * instead (`stableFrom`): the candidate is still compared with what it replaces.
 */
export async function readStepSignals(
  signals: RolloutSignals,
  rollout: { model: string; candidate: number; stable: number; startedAt: string },
  window: { from: Date; to: Date; minRequests: number; quality?: { metric: string } },
): Promise<StepSignals> {
  const { model, candidate, stable } = rollout
  const query = { model, versions: [candidate, stable], from: window.from, to: window.to }
  const traffic = await signals.traffic.read(query)
  let stableSignals: VersionSignals = traffic[stable] ?? { ...EMPTY }
  let stableFrom: Date | undefined
  const startedAt = new Date(rollout.startedAt)
  if (stableSignals.requests < window.minRequests && startedAt < window.from) {
    stableFrom = startedAt
    const earlier = await signals.traffic.read({ ...query, versions: [stable], from: startedAt })
    stableSignals = earlier[stable] ?? stableSignals
  }
  let candidateSignals: VersionSignals = traffic[candidate] ?? { ...EMPTY }
  if (window.quality && signals.quality) {
    const quality = await signals.quality.read({ ...query, metric: window.quality.metric })
    const stableQuality = stableFrom
      ? (await signals.quality.read({ ...query, from: stableFrom, metric: window.quality.metric }))[
          stable
        ]
      : quality[stable]
    candidateSignals = {
      ...candidateSignals,
      quality: quality[candidate] ?? { labels: 0, value: null },
    }
    stableSignals = { ...stableSignals, quality: stableQuality ?? { labels: 0, value: null } }
  }
  return {
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    ...(stableFrom ? { stableFrom: stableFrom.toISOString() } : {}),
    candidate: candidateSignals,
    stable: stableSignals,
  }
}
