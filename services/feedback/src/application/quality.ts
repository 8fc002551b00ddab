import type { Principal } from '@argmax/auth'
import type { ModelSignature, Release } from '@argmax/contracts'
import {
  classCounts,
  classificationMetrics,
  classificationQuality,
  classificationSeries,
  predictionCounts,
  regressionMetrics,
  regressionWindow,
  type ClassificationRow,
  type QualityScope,
  type RegressionRow,
} from '@argmax/analytics'
import type { QualityMetrics, QualityView, VersionQuality } from '../api/contract.ts'
import { bucketSeconds, windowRange, type WindowName } from '../domain/windows.ts'
import type { FeedbackDeps } from './dependencies.ts'
import { listModelVersions, visibleModel } from './model-access.ts'
import { loadSignature } from './signatures.ts'

export interface QualityRequest {
  window: WindowName
  version?: number | undefined
  buckets?: number | undefined
}

/**
 * Live quality of a model per version over a window: coverage, label delay and the task's
 * metrics, plus their series over time — all aggregated in ClickHouse from the join of the
 * prediction log with the current labels.
 */
export async function modelQuality(
  deps: Pick<FeedbackDeps, 'db' | 'analytics' | 'storedJson' | 'now'>,
  principal: Principal,
  model: string,
  request: QualityRequest,
): Promise<QualityView> {
  const row = await visibleModel(deps, principal, model)
  const release = row.release as Release | null
  const now = deps.now()
  const range = windowRange(request.window, now, row.released_at ? new Date(row.released_at) : null)
  const scope: QualityScope = {
    db: deps.analytics.database,
    model,
    from: range.from,
    to: range.to,
    version: request.version,
  }
  const versions = await listModelVersions(deps, model)
  const task = (row.task ?? versions.at(-1)?.task ?? null) as QualityView['task']
  const step = bucketSeconds(range, request.buckets ?? 30)
  // A regression's counts come with its metrics, in one scan; a classification's on their own.
  const window = task === 'regression' ? await regressionWindow(deps.analytics, scope, step) : []
  const counts = new Map(
    (task === 'regression' ? window : await predictionCounts(deps.analytics, scope)).map((r) => [
      Number(r.version),
      Number(r.predictions),
    ]),
  )
  const shown = new Set(counts.keys())
  if (release && (request.version === undefined || request.version === release.stable)) {
    shown.add(release.stable)
  }

  const perVersion = new Map<
    number,
    { metrics: QualityMetrics; row?: RegressionRow | ClassificationRow }
  >()
  const series: QualityView['series'] = []
  const pointTime = (bucket: number) =>
    new Date(range.from.getTime() + bucket * step * 1000).toISOString()

  if (task === 'regression') {
    for (const r of window) {
      const version = Number(r.version)
      perVersion.set(version, { metrics: regressionOf(r), row: r })
      r.buckets.forEach((bucket, i) => {
        const labelled = Number(r.bucket_labelled[i])
        if (labelled === 0) return
        series.push({
          version,
          time: pointTime(Number(bucket)),
          labelled,
          metrics: regressionOf({
            labelled,
            abs_sum: r.bucket_abs_sum[i]!,
            sq_sum: r.bucket_sq_sum[i]!,
            y_var: r.bucket_y_var[i]!,
          }),
        })
      })
    }
  } else if (task === 'classification') {
    for (const version of [...shown].sort((a, b) => a - b)) {
      const meta = versions.find((v) => v.version === version)
      if (!meta) continue
      const signature: ModelSignature = await loadSignature(deps.storedJson, meta.signature)
      const one = { ...scope, version }
      const [aggregate] = await classificationQuality(deps.analytics, one, signature)
      const classes = await classCounts(deps.analytics, one, signature)
      if (aggregate) {
        perVersion.set(version, {
          metrics: classificationOf(
            aggregate,
            classes.map((c) => ({
              cls: c.cls,
              support: Number(c.support),
              predicted: Number(c.predicted),
              tp: Number(c.tp),
            })),
          ),
          row: aggregate,
        })
      }
      for (const r of await classificationSeries(deps.analytics, one, signature, step)) {
        const m = classificationOf(r, [])
        series.push({
          version,
          time: pointTime(Number(r.bucket)),
          labelled: Number(r.labelled),
          metrics: { accuracy: m.accuracy, logLoss: m.logLoss },
        })
      }
    }
  }

  const versionViews: VersionQuality[] = [...shown]
    .filter((version) => request.version === undefined || version === request.version)
    .sort((a, b) => a - b)
    .map((version) => {
      const predictions = counts.get(version) ?? 0
      const found = perVersion.get(version)
      const labelled = found?.row ? Number(found.row.labelled) : 0
      const meta = versions.find((v) => v.version === version)
      return {
        version,
        stable: release?.stable === version,
        predictions,
        labelled,
        coverage: predictions > 0 ? labelled / predictions : null,
        labelDelaySeconds:
          found?.row && labelled > 0
            ? {
                mean: Number(found.row.delay_mean),
                p50: Number(found.row.delay_p50),
                p90: Number(found.row.delay_p90),
              }
            : null,
        metrics: found?.metrics ?? emptyMetrics(task),
        testMetrics: (meta?.metrics as Record<string, number> | undefined) ?? {},
      }
    })
  series.sort((a, b) => a.version - b.version || a.time.localeCompare(b.time))
  return {
    model,
    task,
    window: { name: request.window, from: range.from.toISOString(), to: range.to.toISOString() },
    bucketSeconds: step,
    versions: versionViews,
    series,
  }
}

function regressionOf(
  r: Pick<RegressionRow, 'abs_sum' | 'sq_sum' | 'y_var'> & { labelled: string | number },
): QualityMetrics {
  return regressionMetrics({
    labelled: Number(r.labelled),
    absSum: Number(r.abs_sum),
    sqSum: Number(r.sq_sum),
    yVar: Number(r.y_var),
  })
}

function classificationOf(
  r: ClassificationRow,
  classes: Parameters<typeof classificationMetrics>[0]['classes'],
): QualityMetrics {
  return classificationMetrics({
    labelled: Number(r.labelled),
    correct: Number(r.correct),
    scored: Number(r.scored),
    logLossSum: Number(r.log_loss_sum),
    classes,
  })
}

function emptyMetrics(task: QualityView['task']): QualityMetrics {
  return task === 'classification'
    ? { accuracy: null, precision: null, recall: null, f1: null, logLoss: null }
    : { mae: null, rmse: null, r2: null }
}
