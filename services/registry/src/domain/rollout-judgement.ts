/**
 * How a canary step is judged: pure, on the signals read for the step's window (see
 * `RolloutSignals` in the application) against the rollout's criteria. The candidate is compared
 * with the stable version that served the same window, and with absolute ceilings that hold
 * even when the stable version saw too little traffic to compare with.
 */

/** What a rollout holds its candidate to; every field is recorded in `RolloutStarted`. */
export interface RolloutCriteria {
  /** How long each step is held before it is judged. */
  windowSeconds: number
  /** Requests the candidate must have answered in the window before it is judged. */
  minRequests: number
  /** The candidate's error rate may never exceed this (0–1). */
  maxErrorRate: number
  /** …nor the stable version's error rate over the same window by more than this (0–1). */
  maxErrorRateIncrease: number
  /** The candidate's p99 latency may be at most the stable's p99 × this … */
  maxP99Ratio: number
  /** … plus this many milliseconds (sub-millisecond p99s jitter by more than any ratio). */
  p99SlackMs: number
  /**
   * A step still short of its requests or labels this long after its window started is failed
   * ("insufficient traffic") rather than left waiting forever. Optional: rollouts recorded
   * before it existed wait as they did.
   */
  stepDeadlineSeconds?: number
  /** Where labels exist: the monitors' quality metric, compared like the rest. */
  quality?: QualityCriteria
}

/**
 * The live quality metrics a step can be judged on: the monitors' names, computed as feedback's
 * quality computes them (scikit-learn's definitions, `@argmax/analytics`' quality queries).
 */
export const QUALITY_METRICS = {
  mae: { task: 'regression', direction: 'lower_is_better' },
  rmse: { task: 'regression', direction: 'lower_is_better' },
  accuracy: { task: 'classification', direction: 'higher_is_better' },
  log_loss: { task: 'classification', direction: 'lower_is_better' },
} as const satisfies Record<
  string,
  { task: 'regression' | 'classification'; direction: QualityCriteria['direction'] }
>

export type QualityMetric = keyof typeof QUALITY_METRICS

export function isQualityMetric(name: string): name is QualityMetric {
  return Object.hasOwn(QUALITY_METRICS, name)
}

export interface QualityCriteria {
  /** The metric, one of QUALITY_METRICS (`mae`, `rmse`, `accuracy`, `log_loss`). */
  metric: string
  /** Follows from the metric (a start may omit it; one that contradicts the metric is refused). */
  direction: 'lower_is_better' | 'higher_is_better'
  /** Labelled predictions of the candidate needed before it is judged. */
  minLabels: number
  /** Relative degradation allowed against the stable version (0.05: 5 % worse). */
  maxDegradation: number
}

export const DEFAULT_ROLLOUT_STEPS: readonly number[] = [10, 50, 100]

export const DEFAULT_ROLLOUT_CRITERIA: RolloutCriteria = {
  windowSeconds: 600,
  minRequests: 100,
  maxErrorRate: 0.05,
  maxErrorRateIncrease: 0.01,
  maxP99Ratio: 1.5,
  p99SlackMs: 10,
  stepDeadlineSeconds: 86_400,
}

/** One version's traffic over a step's window. */
export interface VersionSignals {
  requests: number
  errors: number
  /** p99 of the successful requests' latency; null when there were none. */
  p99LatencyMs: number | null
  /** The quality metric over the labelled predictions (absent: no quality source). */
  quality?: { labels: number; value: number | null }
}

export interface StepSignals {
  /** The window read, ISO timestamps (from inclusive, to exclusive). */
  from: string
  to: string
  /** Set when the stable version was read from here instead (it served nothing in the window). */
  stableFrom?: string
  candidate: VersionSignals
  stable: VersionSignals
}

export type CheckName = 'requests' | 'labels' | 'error_rate' | 'p99_latency_ms' | 'quality'

export interface Check {
  name: CheckName
  candidate: number | null
  stable: number | null
  /** The bound the candidate was held to (null: nothing to compare with). */
  limit: number | null
  ok: boolean
}

export interface Judgement {
  /** `wait`: not enough evidence yet; the step stays and is judged again later. */
  verdict: 'pass' | 'fail' | 'wait'
  checks: Check[]
  /** What failed or what is missing, in words, for the timeline and the annotation. */
  reasons: string[]
}

const rate = (s: VersionSignals) => (s.requests > 0 ? s.errors / s.requests : 0)
const round = (n: number) => Math.round(n * 1e6) / 1e6

export function judgeStep(signals: StepSignals, criteria: RolloutCriteria): Judgement {
  const { candidate, stable } = signals
  const checks: Check[] = []
  const reasons: string[] = []

  // Errors so many that the rest of the window cannot save the step: fail without waiting.
  const hopeless = candidate.errors / Math.max(criteria.minRequests, candidate.requests)
  if (candidate.requests < criteria.minRequests && hopeless > criteria.maxErrorRate) {
    checks.push({
      name: 'error_rate',
      candidate: round(rate(candidate)),
      stable: stable.requests > 0 ? round(rate(stable)) : null,
      limit: criteria.maxErrorRate,
      ok: false,
    })
    reasons.push(
      `${candidate.errors} errors in ${candidate.requests} requests: above the ${pct(criteria.maxErrorRate)} ceiling whatever the next ${criteria.minRequests - candidate.requests} requests do`,
    )
    return { verdict: 'fail', checks, reasons }
  }

  const enough = candidate.requests >= criteria.minRequests
  checks.push({
    name: 'requests',
    candidate: candidate.requests,
    stable: stable.requests,
    limit: criteria.minRequests,
    ok: enough,
  })
  if (!enough) reasons.push(`${candidate.requests} of ${criteria.minRequests} requests so far`)
  const quality = criteria.quality
  if (quality) {
    const labels = candidate.quality?.labels ?? 0
    const labelled = labels >= quality.minLabels
    checks.push({
      name: 'labels',
      candidate: labels,
      stable: stable.quality?.labels ?? null,
      limit: quality.minLabels,
      ok: labelled,
    })
    if (!labelled) reasons.push(`${labels} of ${quality.minLabels} labels so far`)
  }
  if (reasons.length > 0) return { verdict: 'wait', checks, reasons }

  // Comparisons with the stable version only where it has enough traffic of its own.
  const stableComparable = stable.requests >= criteria.minRequests
  const errorLimit = stableComparable
    ? Math.min(criteria.maxErrorRate, rate(stable) + criteria.maxErrorRateIncrease)
    : criteria.maxErrorRate
  const errorOk = rate(candidate) <= errorLimit
  checks.push({
    name: 'error_rate',
    candidate: round(rate(candidate)),
    stable: stable.requests > 0 ? round(rate(stable)) : null,
    limit: round(errorLimit),
    ok: errorOk,
  })
  if (!errorOk) {
    reasons.push(
      `error rate ${pct(rate(candidate))} above ${pct(errorLimit)}` +
        (stableComparable ? ` (stable ${pct(rate(stable))})` : ''),
    )
  }

  if (candidate.p99LatencyMs !== null && stable.p99LatencyMs !== null && stableComparable) {
    const limit = stable.p99LatencyMs * criteria.maxP99Ratio + criteria.p99SlackMs
    const ok = candidate.p99LatencyMs <= limit
    checks.push({
      name: 'p99_latency_ms',
      candidate: round(candidate.p99LatencyMs),
      stable: round(stable.p99LatencyMs),
      limit: round(limit),
      ok,
    })
    if (!ok) {
      reasons.push(
        `p99 latency ${ms(candidate.p99LatencyMs)} above ${ms(limit)} (stable ${ms(stable.p99LatencyMs)} × ${criteria.maxP99Ratio} + ${criteria.p99SlackMs} ms)`,
      )
    }
  }

  if (quality) {
    const mine = candidate.quality?.value ?? null
    const theirs = stable.quality?.value ?? null
    const comparable =
      mine !== null && theirs !== null && (stable.quality?.labels ?? 0) >= quality.minLabels
    if (comparable) {
      const lower = quality.direction === 'lower_is_better'
      const limit = lower
        ? theirs + Math.abs(theirs) * quality.maxDegradation
        : theirs - Math.abs(theirs) * quality.maxDegradation
      const ok = lower ? mine <= limit : mine >= limit
      checks.push({
        name: 'quality',
        candidate: round(mine),
        stable: round(theirs),
        limit: round(limit),
        ok,
      })
      if (!ok) {
        reasons.push(
          `${quality.metric} ${round(mine)} ${lower ? 'above' : 'below'} ${round(limit)} (stable ${round(theirs)}, ${pct(quality.maxDegradation)} allowed)`,
        )
      }
    } else {
      // Recorded all the same, so the evidence shows what was seen (a stable version with too
      // few labels of its own is no yardstick, like one with too little traffic).
      checks.push({
        name: 'quality',
        candidate: mine === null ? null : round(mine),
        stable: theirs === null ? null : round(theirs),
        limit: null,
        ok: true,
      })
    }
  }

  return { verdict: reasons.length > 0 ? 'fail' : 'pass', checks, reasons }
}

/**
 * A judgement that would still wait, at the step's deadline: the step fails on the evidence it
 * has, its reasons saying what was missing (the same checks, so the annotation shows the counts).
 */
export function insufficientTraffic(
  waiting: Judgement,
  heldSeconds: number,
  deadlineSeconds: number,
): Judgement {
  return {
    verdict: 'fail',
    checks: waiting.checks,
    reasons: [
      `insufficient traffic: ${waiting.reasons.join(', ')} after ${Math.round(heldSeconds)} s (step deadline ${deadlineSeconds} s)`,
    ],
  }
}

function pct(value: number): string {
  return `${round(value * 100)} %`
}

function ms(value: number): string {
  return `${round(value)} ms`
}
