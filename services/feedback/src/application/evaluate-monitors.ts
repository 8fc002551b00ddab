import type { Principal } from '@argmax/auth'
import type { Release } from '@argmax/contracts'
import { handleCommand } from '@argmax/events'
import type { VersionDrift, VersionQuality } from '../api/contract.ts'
import {
  DRIFT_METRICS,
  monitorDecider,
  testMetricName,
  type MonitorObservation,
  type MonitorRule,
  type WindowName,
} from '../domain/index.ts'
import { windowRange } from '../domain/windows.ts'
import type { ModelRow, MonitorRow } from '../projections/tables.ts'
import { subjects } from '../streams.ts'
import type { FeedbackDeps } from './dependencies.ts'
import { versionDrift } from './drift.ts'
import { findModelVersion } from './model-access.ts'
import { modelQuality } from './quality.ts'
import { loadSignature } from './signatures.ts'

/** Evaluations read every model: they run as the platform, not as a user. */
export const EVALUATOR: Principal = { subject: 'system:feedback-monitors', roles: ['admin'] }
export const EVALUATOR_ACTOR = 'system:feedback-monitors'

type Deps = Pick<
  FeedbackDeps,
  'store' | 'names' | 'db' | 'analytics' | 'storedJson' | 'profiles' | 'now'
>

/**
 * What one evaluation round computed, shared by every monitor (and the gauges) of the round: each
 * (model, version, window) is aggregated in ClickHouse once however many monitors watch it.
 */
export class EvaluationRound {
  private readonly quality = new Map<string, Promise<VersionQuality | undefined>>()
  private readonly drift = new Map<string, Promise<VersionDrift | undefined>>()

  constructor(
    private readonly deps: Deps,
    readonly now: Date,
  ) {}

  qualityOf(
    model: string,
    version: number,
    window: WindowName,
  ): Promise<VersionQuality | undefined> {
    const key = `${model}\u0000${version}\u0000${window}`
    let found = this.quality.get(key)
    if (!found) {
      const deps = { ...this.deps, now: () => this.now }
      found = modelQuality(deps, EVALUATOR, model, { window, version, buckets: 1 }).then((view) =>
        view.versions.find((v) => v.version === version),
      )
      this.quality.set(key, found)
    }
    return found
  }

  driftOf(model: ModelRow, version: number, window: WindowName): Promise<VersionDrift | undefined> {
    const key = `${model.name}\u0000${version}\u0000${window}`
    let found = this.drift.get(key)
    if (!found) {
      found = (async () => {
        const meta = await findModelVersion(this.deps, model.name, version)
        if (!meta) return undefined
        const signature = await loadSignature(this.deps.storedJson, meta.signature)
        const profile = meta.dataset_version_id
          ? await this.deps.profiles.get(meta.dataset_version_id)
          : undefined
        const range = windowRange(
          window,
          this.now,
          model.released_at ? new Date(model.released_at) : null,
        )
        return versionDrift(
          this.deps,
          { model: model.name, version, ...range },
          signature,
          profile,
          {
            datasetId: meta.dataset_id,
            datasetVersionId: meta.dataset_version_id,
          },
        )
      })()
      this.drift.set(key, found)
    }
    return found
  }
}

/** The version a rule watches: its own, or the model's current stable version. */
export function watchedVersion(rule: MonitorRule, model: ModelRow): number | undefined {
  return rule.version ?? (model.release as Release | null)?.stable
}

/** What a monitor sees now, or null when there is no verdict (no release, too few labels). */
export async function observe(
  round: EvaluationRound,
  monitor: MonitorRow,
  model: ModelRow,
): Promise<MonitorObservation | null> {
  const rule = monitor.rule as MonitorRule
  const version = watchedVersion(rule, model)
  if (version === undefined) return null
  const range = windowRange(
    rule.window,
    round.now,
    model.released_at ? new Date(model.released_at) : null,
  )
  const window = { name: rule.window, from: range.from.toISOString(), to: range.to.toISOString() }
  let value: number | null
  let samples: number
  let testMetrics: Record<string, number> = {}
  if (DRIFT_METRICS.includes(rule.metric)) {
    const drift = await round.driftOf(model, version, rule.window)
    if (!drift) return null
    samples = drift.predictions
    value =
      rule.metric === 'max_psi'
        ? drift.maxPsi
        : rule.metric === 'prediction_psi'
          ? (drift.prediction?.psi ?? null)
          : (drift.features.find((f) => f.feature === rule.feature)?.psi ?? null)
  } else {
    const quality = await round.qualityOf(model.name, version, rule.window)
    if (!quality) return null
    testMetrics = quality.testMetrics
    if (rule.metric === 'coverage') {
      samples = quality.predictions
      value = quality.coverage
    } else if (rule.metric === 'labels') {
      samples = quality.labelled
      value = quality.labelled
    } else {
      samples = quality.labelled
      const metrics = quality.metrics as Record<string, number | null | undefined>
      value = metrics[rule.metric === 'log_loss' ? 'logLoss' : rule.metric] ?? null
    }
  }
  if (samples < rule.minLabels) return null
  const threshold = thresholdOf(rule, testMetrics)
  return { version, value, threshold, samples, window }
}

/** The rule's threshold: fixed, or its factor times the version's test metric (if it has one). */
export function thresholdOf(rule: MonitorRule, testMetrics: Record<string, number>): number | null {
  if (rule.threshold !== undefined) return rule.threshold
  const name = testMetricName(rule.metric)
  const test = name ? testMetrics[name] : undefined
  return rule.relativeToTest !== undefined && typeof test === 'number'
    ? rule.relativeToTest * test
    : null
}

/** Evaluates every active monitor once; returns how many changed state. */
export async function evaluateMonitors(deps: Deps, round: EvaluationRound): Promise<number> {
  const monitors = await deps.db
    .selectFrom('monitors')
    .selectAll()
    .where('deleted_at', 'is', null)
    .execute()
  const models = new Map(
    (await deps.db.selectFrom('models').selectAll().where('deleted_at', 'is', null).execute()).map(
      (m) => [m.name, m],
    ),
  )
  let changed = 0
  for (const monitor of monitors) {
    const model = models.get(monitor.model)
    if (!model) continue
    const observation = await observe(round, monitor, model)
    const outcome = await handleCommand(
      deps.store,
      monitorDecider,
      subjects.monitor(deps.names, monitor.id),
      { type: 'Evaluate', data: { monitorId: monitor.id, observation, now: round.now } },
      { actor: EVALUATOR_ACTOR },
    )
    changed += outcome.written
  }
  return changed
}
