import type {
  MetricCheck,
  MetricDirection,
  PipelineConfig,
  ServingSide,
} from './pipeline.events.ts'

/**
 * The evaluation gate, pure. The candidate's test metrics (from its `TrainingRunSucceeded`)
 * are compared with the serving version's (as the registry recorded them). They are numbers on
 * the same holdout only when both were tested on the same dataset version with the same seed:
 * the trainers' split is a function of the rows and the seed (`trainers/…/split.py`).
 *
 * - gate metric: the candidate's relative improvement must reach `margin`;
 * - each guard: the candidate may be worse by at most its `tolerance` (relative);
 * - a metric missing on either side fails its check; so does a different holdout unless the
 *   pipeline allows it. Nothing serving yet: there is nothing to beat, the gate passes.
 */
export interface Candidate {
  runId: string
  datasetVersionId: string
  seed: number
  metrics: Record<string, number>
}

export interface Evaluation {
  sameHoldout: boolean
  checks: MetricCheck[]
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

export function evaluateCandidate(
  evaluation: PipelineConfig['evaluation'],
  candidate: Candidate,
  serving: ServingSide | null,
): Evaluation {
  if (serving === null) return { sameHoldout: false, checks: [] }
  const sameHoldout =
    serving.datasetVersionId === candidate.datasetVersionId && serving.seed === candidate.seed
  const check = (
    metric: string,
    role: 'gate' | 'guard',
    direction: MetricDirection,
    required: number,
  ): MetricCheck => {
    const c = finite(candidate.metrics[metric])
    const s = finite(serving.metrics[metric])
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
  return {
    sameHoldout,
    checks: [
      check(evaluation.metric, 'gate', evaluation.direction, evaluation.margin),
      ...evaluation.guards.map((g) => check(g.metric, 'guard', g.direction, 0 - g.tolerance)),
    ],
  }
}

export function decideGate(
  evaluation: PipelineConfig['evaluation'],
  result: Evaluation & { serving: ServingSide | null },
): GateDecision {
  if (result.serving === null) {
    return { passed: true, reasons: ['nothing serves the model yet: there is no version to beat'] }
  }
  const reasons: string[] = []
  if (!result.sameHoldout && !evaluation.allowDifferentHoldout) {
    reasons.push(
      `no common holdout: the candidate was tested on another dataset version or seed than ` +
        `version ${result.serving.version} (allowDifferentHoldout is off)`,
    )
  }
  for (const c of result.checks) {
    if (c.improvement === null) {
      const side = c.candidate === null ? 'the candidate' : `version ${result.serving.version}`
      reasons.push(`${c.role} metric ${c.metric}: ${side} has no value for it`)
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
