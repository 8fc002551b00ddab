import type { RolloutDetails, RolloutView } from '@argmax/registry-service/client'
import { table } from '../datasets/render.ts'

export function renderRollouts(rollouts: RolloutView[]): string {
  return table(
    rollouts.map((r) => ({
      ...r,
      versions: `${r.candidate} vs ${r.stable}`,
      step: `${r.step + 1}/${r.steps.length} (${r.percent} %)`,
    })),
    ['rolloutId', 'status', 'versions', 'step', 'startedBy', 'startedAt', 'endedAt'],
  )
}

/** The rollout, then its timeline: one line a decision, with what it was based on. */
export function renderRollout({ rollout: r, timeline }: RolloutDetails): string {
  const lines = [
    `rollout ${r.rolloutId}: version ${r.candidate} against stable ${r.stable} — ${r.status.replace('_', ' ')}`,
    `steps ${r.steps.map((p) => `${p} %`).join(' → ')}, each held ${r.criteria.windowSeconds} s and ${r.criteria.minRequests} requests` +
      (r.criteria.quality
        ? `, ${r.criteria.quality.minLabels} labels; ${r.criteria.quality.metric} at most ${r.criteria.quality.maxDegradation * 100} % worse than the stable's`
        : '') +
      (r.requireApproval ? ', approved by an admin' : ''),
    `started by ${r.startedBy} at ${r.startedAt}: ${r.reason}`,
    '',
  ]
  for (const entry of timeline)
    lines.push(`${entry.at}  ${timelineText(entry.type, entry.data)}  (${entry.actor})`)
  return lines.join('\n')
}

function timelineText(type: string, d: Record<string, unknown>): string {
  const step = typeof d.step === 'number' ? d.step + 1 : undefined
  switch (type) {
    case 'RolloutStarted':
      return `started: ${String(d.candidate)} against ${String(d.stable)}`
    case 'RolloutStepStarted':
      return `step ${step}: ${String(d.percent)} % to the candidate (release position ${String(d.releasePosition)})`
    case 'RolloutStepJudged': {
      type Seen = {
        requests: number
        errors: number
        p99LatencyMs: number | null
        quality?: { labels: number; value: number | null }
      }
      const signals = d.signals as { candidate: Seen; stable: Seen }
      const s = (v: Seen) =>
        `${v.requests} req, ${v.errors} err, p99 ${v.p99LatencyMs ?? '–'} ms` +
        (v.quality
          ? `, ${v.quality.labels} labels, quality ${v.quality.value === null ? '–' : Math.round(v.quality.value * 1e4) / 1e4}`
          : '')
      const reasons = (d.reasons as string[]).join('; ')
      return (
        `step ${step} ${String(d.verdict).toUpperCase()} → ${String(d.next)}: candidate ${s(signals.candidate)}; stable ${s(signals.stable)}` +
        (reasons ? ` — ${reasons}` : '')
      )
    }
    case 'RolloutPromoted':
      return `promoted: stable ${String((d.release as { stable: number }).stable)} (was ${String(d.previousStable)})`
    case 'RolloutReverted':
      return `${String(d.outcome).replace('_', ' ')}: release ${d.release ? `stable ${String((d.release as { stable: number }).stable)}` : 'left as it was'}`
    case 'RolloutRollbackRequested':
      return `rollback requested (${String(d.from)}): ${String(d.reason)}`
    default:
      return `${type.replace(/^Rollout/, '').toLowerCase()}${typeof d.reason === 'string' ? `: ${d.reason}` : ''}`
  }
}

/** One timeline entry in words (argmax demo loop prints them as they happen). */
export { timelineText as rolloutTimelineText }
