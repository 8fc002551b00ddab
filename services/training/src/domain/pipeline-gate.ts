import type { MetricCheck, MetricDirection, PipelineConfig } from './pipeline.events.ts'

/**
 * The evaluation gate, pure. The candidate and the serving version are compared on numbers
 * computed the same way on the same rows: both models scored on the candidate's holdout (its
 * test split, `holdout.jsonl`) by the evaluate step — never on each one's own test split, which
 * would compare two different sets of rows as soon as the data changes (as it does in a retrain).
 *
 * - gate metric: the candidate's relative improvement must reach `margin`;
 * - each guard: the candidate may be worse by at most its `tolerance` (relative);
 * - a metric missing on either side fails its check. Nothing serving yet: there is nothing to
 *   beat, the gate passes.
 */
export interface Candidate {
  runId: string
  datasetVersionId: string
  seed: number
  /** Its test metrics as the training run recorded them. */
  trainingMetrics: Record<string, number>
}

export interface GateDecision {
  passed: boolean
  reasons: string[]
}

/** Relative improvement of `candidate` over `serving` in `direction` (positive: better). */
export function improvementOf(
  candidate: number,
  serving: number,
  direction: MetricDirection,
): number {
  const better = direction === 'lower_is_better' ? serving - candidate : candidate - serving
  // A serving value of 0 has no scale: the raw difference is the only honest number.
  return serving === 0 ? better : better / Math.abs(serving)
}

/** One check per metric (the gate's, then each guard), candidate vs serving on the holdout. */
export function evaluateCandidate(
  evaluation: PipelineConfig['evaluation'],
  candidate: Record<string, number>,
  serving: Record<string, number> | null,
): MetricCheck[] {
  if (serving === null) return []
  const check = (
    metric: string,
    role: 'gate' | 'guard',
    direction: MetricDirection,
    required: number,
  ): MetricCheck => {
    const c = finite(candidate[metric])
    const s = finite(serving[metric])
    const improvement = c !== null && s !== null ? round(improvementOf(c, s, direction)) : null
    return {
      metric,
      role,
      direction,
      candidate: c,
      serving: s,
      improvement,
      required,
      passed: improvement !== null && improvement >= required,
    }
  }
  return [
    check(evaluation.metric, 'gate', evaluation.direction, evaluation.margin),
    ...evaluation.guards.map((g) => check(g.metric, 'guard', g.direction, 0 - g.tolerance)),
  ]
}

export function decideGate(result: {
  serving: { version: number } | null
  checks: MetricCheck[]
}): GateDecision {
  if (result.serving === null) {
    return { passed: true, reasons: ['nothing serves the model yet: there is no version to beat'] }
  }
  const reasons: string[] = []
  for (const c of result.checks) {
    if (c.improvement === null) {
      const side = c.candidate === null ? 'the candidate' : `version ${result.serving.version}`
      reasons.push(`${c.role} metric ${c.metric}: ${side} has no value for it on the holdout`)
    } else if (!c.passed) {
      reasons.push(
        c.role === 'gate'
          ? `${c.metric} ${c.candidate} vs ${c.serving}: improvement ${pct(c.improvement)} below the margin ${pct(c.required)}`
          : `guard ${c.metric} ${c.candidate} vs ${c.serving}: worse by ${pct(-c.improvement)}, more than the tolerance ${pct(0 - c.required)}`,
      )
    }
  }
  if (reasons.length > 0) return { passed: false, reasons }
  const gate = result.checks[0]!
  return {
    passed: true,
    reasons: [
      `${gate.metric} ${gate.candidate} vs ${gate.serving}: improvement ${pct(gate.improvement!)} reaches the margin ${pct(gate.required)}`,
    ],
  }
}

function finite(value: number | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6
}

function pct(value: number): string {
  return `${(value * 100).toFixed(2)} %`
}

/**
 * Why the candidate's holdout is not a fair test of the serving version (null: it is). A row's
 * split is a function of the seed and the row's index in what a run reads (`split.py`), so the
 * rows of a dataset version both trained on fall in the same split for both only when both
 * read it first (the same indices) with the same seed. Otherwise the candidate's holdout may
 * hold rows the serving version trained on, and scores it better than it is. What an upload
 * was trained on is unknown: nothing to check.
 */
export function holdoutLeak(
  serving: { version: number; trainedOn: { datasetVersionId: string; seed: number } | null },
  candidate: { datasetVersionIds: readonly string[]; seed: number },
): string | null {
  const trainedOn = serving.trainedOn
  if (!trainedOn) return null
  const position = candidate.datasetVersionIds.indexOf(trainedOn.datasetVersionId)
  if (position === -1 || (position === 0 && trainedOn.seed === candidate.seed)) return null
  const how =
    position === 0
      ? `with seed ${candidate.seed}, not ${trainedOn.seed}`
      : `in position ${position + 1}, not first`
  return (
    `version ${serving.version} was trained on dataset version ${trainedOn.datasetVersionId} ` +
    `(read first, seed ${trainedOn.seed}) and the candidate read it ${how}: its holdout can ` +
    `hold rows version ${serving.version} trained on, which would flatter it. Train the ` +
    `pipeline with seed ${trainedOn.seed} and that dataset version first (data.datasetVersionId)`
  )
}
